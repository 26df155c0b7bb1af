"""helpers: the library behind the music-search notebooks.

Each module is one stage of the pipeline (file → waveform → vector → document → hit):
``audio``, ``metadata``, ``features``, ``embeddings``, ``es``, ``index``, ``ingest``, ``search``,
``humming``, ``widgets``, ``demo``. Import the module you need; this package imports nothing heavy.
"""

__version__ = "0.1.0"
