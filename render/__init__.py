"""From graphs back to files and pictures.

Back-projection turns the difference between the float graph and a rewritten graph into minimal,
non-overlapping text edits on the original bytes (``edits.py``); ``picture.py`` draws graphs through
Graphviz. Rendering only places what the passes decided. This package may import
``llm_transform.graph`` and ``llm_transform.source``, never the pipeline or the command line above it.
"""
