"""What colab-local changes in ServerApp before it listens: Colab's settings, the persisted
token, gateway sessions, the busy-port message and the CORS transform."""
