"""Loaders: read the database into the frames the computations take."""
