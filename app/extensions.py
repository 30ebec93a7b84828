"""Extension objects, created unbound and attached in create_app()."""

from collections.abc import Callable
from typing import TYPE_CHECKING

from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from app.platform.store_keys import key_column

if TYPE_CHECKING:
    import flask_sqlalchemy.model
    import flask_sqlalchemy.session
    from sqlalchemy.orm import Session, scoped_session

# Named constraints so Alembic migrations are stable across databases.
NAMING: dict[str, str | Callable[..., str]] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    # A store key (store_id, x_id) is named after x_id, as its single-column key was (app/platform/store_keys.py).
    "fk": "fk_%(table_name)s_%(key_column)s_%(referred_table_name)s",
    "key_column": key_column,
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# What type checkers see of Flask-SQLAlchemy; at run time the names below are Flask-SQLAlchemy's own objects, unchanged.
if TYPE_CHECKING:

    class ScopedSession(scoped_session[flask_sqlalchemy.session.Session], Session):
        """db.session: a scoped_session (remove(), registry; calling it gives the context's Session) that also passes
        where a sqlalchemy.orm.Session is annotated, as it proxies every Session method the code calls on it.
        Flask-SQLAlchemy types it scoped_session only. Never instantiated."""

    class _SQLAlchemy(SQLAlchemy):
        session: ScopedSession

    class Model(Base, flask_sqlalchemy.model.Model):
        """db.Model, which Flask-SQLAlchemy builds at run time from Base's body plus its mixins (table-name default,
        bind key, query property): a dynamic class a type checker cannot use as a base."""

        __abstract__ = True
else:
    _SQLAlchemy = SQLAlchemy


db = _SQLAlchemy(model_class=Base)
migrate = Migrate()

if not TYPE_CHECKING:
    # The base every model subclasses (`class Store(Model)`): db.Model itself at run time.
    Model = db.Model
