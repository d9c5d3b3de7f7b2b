"""What colab-local sets in ServerApp before it listens: Colab's settings, the persisted
token, the busy-port message."""
