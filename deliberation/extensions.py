"""Flask extensions, created unbound here and bound in :func:`deliberation.create_app`."""

from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
socketio = SocketIO()
babel = Babel()
login_manager = LoginManager()
csrf = CSRFProtect()
# Phones on poor venue wifi: HTML, CSS, JS and JSON go out compressed.
compress = Compress()
# Throttles (log-in, join codes, projector codes…). The storage follows the configuration:
# memory for one process, the Socket.IO Redis when several processes share the load.
limiter = Limiter(key_func=get_remote_address)
