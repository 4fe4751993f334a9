"""nbgrader preprocessors of the course: one step per file, as nbgrader's own `preprocessors/`."""
