"""Builders of the three notebooks, the release and the demo submissions (`python -m layers_lib.course.notebooks`)."""
