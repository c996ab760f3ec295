"""Converters between the container forms: Sequential <-> DAG, wav IRs -> Linear.

Installed as ``namgraph.converters``; the folder sits at the top of the repository so the
file-format work is easy to find.
"""
