"""jupyter_server and tornado defects colab-local works around, one module each: the
docstring names what upstream does wrong and when the module can go."""
