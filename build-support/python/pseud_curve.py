"""ZeroMQ CURVE encryption for Python pseud 1.0.1 clients.

pseud 1.0.1 ships only the `noop` security plugin. Importing this module registers a
client plugin named `curve`, so a Python client can talk to a cara server started
with `--security curve` (or any CURVE pseud server) over an encrypted connection:

    import pseud, zmq.auth
    import pseud_curve  # noqa: F401  (registers security_plugin="curve")

    server_public, _ = zmq.auth.load_certificate("server.key")
    public, secret = zmq.auth.load_certificate("client.key_secret")
    client = pseud.Client(b"server", security_plugin="curve",
                          public_key=public, secret_key=secret,
                          peer_public_key=server_public)

Keys are Z85 (40 characters); the files are ZeroMQ certificates, as written by
`cara keygen NAME` or pyzmq's `zmq.auth.create_certificates`. The server knows the
client by its public key (its user id is that key in Z85, unless the server maps
keys to names). Copy this file next to your code; it needs pseud 1.0.1, pyzmq (its
wheels include CURVE) and zope.component.
"""
import zope.component
import zope.interface
from pseud.auth import NoOpAuthenticationBackendForClient
from pseud.interfaces import IAuthenticationBackend, IClient
from pseud.utils import register_auth_backend


@register_auth_backend
@zope.interface.implementer(IAuthenticationBackend)
@zope.component.adapter(IClient)
class CurveAuthenticationBackendForClient(NoOpAuthenticationBackendForClient):
    """ZMQ CURVE client: Client(public_key=, secret_key=, peer_public_key=)."""

    name = "curve"

    def configure(self):
        self.rpc.socket.curve_publickey = self.rpc.public_key
        self.rpc.socket.curve_secretkey = self.rpc.secret_key
        self.rpc.socket.curve_serverkey = self.rpc.peer_public_key
