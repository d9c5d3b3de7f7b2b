"""Colab's runtime panel on this server: the endpoints Colab's page calls on Google's
runtime image (the resource monitor's RAM, disk and GPU bars; Drive status; build info).

``gpus`` reads the GPUs (NVML, ``nvidia-smi`` as the fallback) in a background thread;
``readings`` turns the server's own memory, disk and kernels, and the cached GPU readings,
into the answer; ``handlers`` serves them, authenticated like every Jupyter API.
"""
