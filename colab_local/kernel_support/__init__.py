"""What the kernels this server starts get: the provisioner that gives them ``google.colab``,
the one-time download links, the secret store for ``userdata.get``."""
