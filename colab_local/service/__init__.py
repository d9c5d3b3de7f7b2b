"""``jupyter colab service``: systemd user units that keep the server (and its kernels) running."""
