"""``/colab/connect`` and the doctor: the URL to paste into Colab and the server's health.

- ``handler``: the page and its JSON, and the on-demand kernel probe endpoint;
- ``page``: the page's HTML;
- ``health``: all checks, run together; ``check``: one check's answer;
- ``server_checks``: this server's settings; ``kernels``: where kernels run, and what;
- ``kernel_probe``: what a notebook's kernel will really see, asked of a short-lived kernel;
- ``contacts`` and ``contact_notes``: the last requests of Colab's page, noted as they come.
"""
