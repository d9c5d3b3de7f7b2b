"""Living beside Colab's old recipe: the import hook that runs at interpreter start, upstream's
import-time stand-ins, and ``jupyter colab tidy``. Nothing here imports ``colab_local.tunnel``."""
