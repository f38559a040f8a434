from ..runtime import main
from .handlers import build_handlers

if __name__ == "__main__":
    main("performance", build_handlers)
