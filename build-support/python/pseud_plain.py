"""ZeroMQ PLAIN credentials for Python pseud 1.0.1 clients.

pseud 1.0.1 ships only the `noop` security plugin. Importing this module registers a
client plugin named `plain`, so a Python client can log in to a cara server started
with `--security plain` or `--security trusted_peer` (or any PLAIN pseud server):

    import pseud
    import pseud_plain  # noqa: F401  (registers security_plugin="plain")

    client = pseud.Client(b"server", security_plugin="plain",
                          user_id=b"alice", password=b"secret")

The login is `user_id`, the password `password`; the server sees `user_id` as the
caller's user id. Copy this file next to your code; it needs pseud 1.0.1, pyzmq and
zope.component (see build-support/interop/requirements.txt).
"""
import zope.component
import zope.interface
from pseud.auth import NoOpAuthenticationBackendForClient
from pseud.interfaces import IAuthenticationBackend, IClient
from pseud.utils import register_auth_backend


@register_auth_backend
@zope.interface.implementer(IAuthenticationBackend)
@zope.component.adapter(IClient)
class PlainAuthenticationBackendForClient(NoOpAuthenticationBackendForClient):
    """ZMQ PLAIN client: login = Client(user_id=...), password = Client(password=...)."""

    name = "plain"

    def configure(self):
        self.rpc.socket.plain_username = self.rpc.user_id
        self.rpc.socket.plain_password = self.rpc.password
