import uvicorn

from ..common.service import setup_logging, start_coverage
from ..common.settings import get_settings
from .app import create_app

if __name__ == "__main__":
    start_coverage()
    settings = get_settings()
    setup_logging(settings.log_level, "portal")
    uvicorn.run(create_app(settings), host="0.0.0.0", port=settings.port,
                log_level=settings.log_level.lower(), access_log=False)
