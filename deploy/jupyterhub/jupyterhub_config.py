"""JupyterHub for a cgtkit team on one machine: each user signs in and gets their own app and workbook.

Start it with ``./run hub`` (or ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py``);
README.md in this folder explains the choices, what is isolated and what is not,
and how to move to a cluster. Every setting can be changed by an environment
variable, so the file works as shipped:

==========================  =============================================  ===================
variable                    what                                           default
==========================  =============================================  ===================
CGTKIT_HUB_IP               address users connect to                       127.0.0.1
CGTKIT_HUB_PORT             port users connect to                          8000
CGTKIT_HUB_API_PORT         the hub's own API (loopback only)              8081
CGTKIT_HUB_PROXY_API_PORT   the proxy's control API (loopback only)        8001
CGTKIT_HUB_STATE            hub database, secrets, users' homes            ~/.cgtkit/hub
CGTKIT_HUB_WORKBOOKS        a directory for every user's workbook          (each user's home)
CGTKIT_HUB_ADMIN            the admin user (approves sign-ups)             admin
CGTKIT_HUB_AUTH             ``native`` (accounts with passwords), or       native
                            ``test`` (one shared password, loopback only)
CGTKIT_HUB_TEST_PASSWORD    the shared password of ``test``                (required by it)
==========================  =============================================  ===================
"""

import ipaddress
import os
import sys
from pathlib import Path

from jupyterhub.spawner import SimpleLocalProcessSpawner
from traitlets import Unicode, default

from cgtkit.hub import USERNAME_PATTERN, app_command, user_home, workbook_path

c = get_config()  # noqa: F821 - provided by JupyterHub when it loads this file

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
STATE = Path(os.environ.get("CGTKIT_HUB_STATE", "~/.cgtkit/hub")).expanduser().resolve()
STATE.mkdir(parents=True, exist_ok=True, mode=0o700)
IP = os.environ.get("CGTKIT_HUB_IP", "127.0.0.1")
AUTH = os.environ.get("CGTKIT_HUB_AUTH", "native")
WORKBOOKS = os.environ.get("CGTKIT_HUB_WORKBOOKS", "")
ADMIN = os.environ.get("CGTKIT_HUB_ADMIN", "admin")

# -- network: users reach the proxy; the hub and the proxy's API stay on loopback ----------------
c.JupyterHub.ip = IP
c.JupyterHub.port = int(os.environ.get("CGTKIT_HUB_PORT", "8000"))
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = int(os.environ.get("CGTKIT_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{os.environ.get('CGTKIT_HUB_PROXY_API_PORT', '8001')}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "proxy.pid")
c.ConfigurableHTTPProxy.auth_token = os.environ.get("CONFIGPROXY_AUTH_TOKEN") or os.urandom(32).hex()

# -- the hub's state ---------------------------------------------------------------------------
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.JupyterHub.pid_file = str(STATE / "jupyterhub.pid")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's app

# -- who may sign in ---------------------------------------------------------------------------
c.Authenticator.username_pattern = USERNAME_PATTERN  # usernames become folder names
if AUTH == "native":
    # Accounts with passwords kept (hashed) in the hub's database. People sign up at /hub/signup;
    # the admin (who signs up first, under CGTKIT_HUB_ADMIN) approves them at /hub/authorize.
    c.JupyterHub.authenticator_class = "native"
    from nativeauthenticator import handlers as _native

    if not hasattr(_native.LoginHandler, "statsd"):
        # NativeAuthenticator 1.3 times each login with the hub's statsd client, which JupyterHub 6
        # no longer has: without this no-op stand-in every login fails with an AttributeError.
        class _NoStatsd:
            def timer(self, _name: str) -> "_NoStatsd":
                return self

            def start(self) -> "_NoStatsd":
                return self

            def stop(self, send: bool = True) -> None:
                return None

        _native.LoginHandler.statsd = _NoStatsd()
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 10
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 300
    c.Authenticator.admin_users = {ADMIN}
    c.Authenticator.allow_all = True  # the authenticator's own approval decides who has an account
elif AUTH == "test":
    # For tests and a first look only: any username, one shared password, never beyond this machine.
    if not ipaddress.ip_address(IP).is_loopback:
        sys.exit("CGTKIT_HUB_AUTH=test lets anyone in with one shared password: it listens on loopback only. "
                 "Unset CGTKIT_HUB_IP or use CGTKIT_HUB_AUTH=native.")
    password = os.environ.get("CGTKIT_HUB_TEST_PASSWORD", "")
    if len(password) < 8:
        sys.exit("CGTKIT_HUB_AUTH=test needs CGTKIT_HUB_TEST_PASSWORD (8 characters or more).")
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = password
    c.Authenticator.allow_all = True
else:
    sys.exit(f"CGTKIT_HUB_AUTH={AUTH!r}: use 'native' (accounts with passwords) or 'test'.")


# -- each user's app ---------------------------------------------------------------------------
class CgtkitSpawner(SimpleLocalProcessSpawner):
    """Each user's app as a process of the hub's own OS user, with a home and workbook of its own.

    The app is ``cgtkit-app`` behind ``jhsingle-native-proxy`` (see cgtkit/hub.py for why): the
    proxy admits only the server's owner, and the app offers no files, terminals or code
    execution, so one user's browser cannot reach another's workbook. The processes are not
    separated by the operating system: see README.md in this folder.
    """

    workbooks_dir = Unicode(WORKBOOKS, config=True, help="A directory for every user's workbook ('' = their home).")

    @default("home_dir")
    def _home_dir(self):  # noqa: ANN202
        return str(user_home(STATE, self.user.name))

    def make_preexec_fn(self, name):  # noqa: ANN001, ANN202
        home = self.home_dir

        def preexec() -> None:
            os.makedirs(home, mode=0o700, exist_ok=True)
            os.chdir(home)

        return preexec

    def get_env(self):  # noqa: ANN202
        env = super().get_env()
        env["CGTKIT_WORKBOOK"] = str(workbook_path(self.user.name, self.home_dir, self.workbooks_dir or None))
        return env


c.JupyterHub.spawner_class = CgtkitSpawner
c.Spawner.cmd = app_command(sys.executable, ROOT)
c.Spawner.default_url = "/voila/render/app.ipynb"
c.Spawner.start_timeout = 120
c.Spawner.http_timeout = 120
# The hub's own single-user environment variables are all the app needs; keep the hub's PATH so
# that the app finds the same Python environment.
c.Spawner.env_keep = ["PATH", "PYTHONPATH", "LANG", "LC_ALL", "JUPYTER_PATH", "OPENBLAS_CORETYPE",
                      "OPENBLAS_L2_SIZE"]
