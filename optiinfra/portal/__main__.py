from ..common.service import serve
from .app import create_app

if __name__ == "__main__":
    serve("portal", create_app)
