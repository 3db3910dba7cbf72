"""The retrieval index over approved KB entries: faiss (inner product on normalised vectors) fused with BM25.

`rows` says what is indexed, `search` searches it (`KBIndex`), `overlay` makes approved edits live without a
rebuild, `vectors` reuses vectors already computed and builds the faiss part, `storage` keeps indexes on disk.
"""
