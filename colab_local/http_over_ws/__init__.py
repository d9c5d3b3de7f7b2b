"""Colab's HTTP-over-WebSocket tunnel (jupyter_http_over_ws protocol 0.0.7), served here.

- ``handlers``: the three endpoints, upstream's handler classes with colab-local's fixes;
- ``upstream``: importing upstream on today's stack, and its defects, each with its answer;
- ``auth``: who the client is, from the auth URL's token, decided inside the server;
- ``messages``: request messages parsed once and checked;
- ``dispatch``: tunnelled requests answered by this server's own application, in process;
- ``relay``: proxied WebSockets, connected only to this server's own sockets;
- ``old_recipe_hook`` (run at every Python start by the wheel's ``.pth``) and ``stand_ins``:
  the old recipe's ``jupyter_http_over_ws`` extension made importable; neither imports the
  rest of this package.
"""
