"""Recompute helpers/data/feature_stats.json: the reference statistics FeatureEmbedder standardizes with.

.venv/bin/python scripts/fit_feature_stats.py [MUSIC_DIR]    (default: the 60-song demo library)
"""

from __future__ import annotations

import json
import sys

import numpy as np

from helpers.demo import demo_songs, ensure_library
from helpers.embeddings import EmbeddingCache, FeatureEmbedder
from helpers.features import STATS_FILE, fit_stats

folder = sys.argv[1] if len(sys.argv) > 1 else ensure_library()
emb = FeatureEmbedder()
raws = [r.raw for r in emb.embed_files(demo_songs(folder), cache=EmbeddingCache()) if r.raw is not None]
stats = fit_stats(np.stack(raws))
stats["fitted_on"] = f"{len(raws)} songs of the demo library"
STATS_FILE.write_text(json.dumps(stats, indent=0))
print(f"wrote {STATS_FILE} from {len(raws)} songs")
