"""``qabook serve``: a local web page to drop a chat in and get the documents out.

Everything stays on this machine: the server listens on 127.0.0.1, uploads live in a private
temporary folder under random ids, and they are removed after a while, on request, or when the
server stops. :mod:`qabook.web.app` is the Starlette application, :mod:`qabook.web.store` the
uploads, :mod:`qabook.web.forms` the streaming form reader, :mod:`qabook.web.commands` the command.
"""
