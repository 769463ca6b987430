"""tpp_devpi: Trustable Package Publication for devpi-server.

Installed next to devpi-server, it adds the ``tpp`` index type: uploads to such an index stay hidden
and undownloadable until the project's approvers approve them with WebAuthn in TPP's pages, which
the plugin serves under ``/+tpp/`` of the same server::

    pip install 'tpp[devpi]'
    devpi-server --serverdir ./server            # the plugin loads through its entry point
    devpi index -c rel type=tpp volatile=False   # a gated index
"""

__version__ = "0.1.0.dev0"
