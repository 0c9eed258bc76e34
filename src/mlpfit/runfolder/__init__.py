"""The run folder: atomic writes, the manifest and its digests, the marker and lock, checkpoints, and
verified reads.
"""
