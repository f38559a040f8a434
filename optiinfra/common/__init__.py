"""Code shared by every OptiInfra service.

Pure domain logic (no IO): ``domain``, ``pricing``, ``learning``, ``gates``.
IO adapters: ``db``, ``bus``, ``metrics``, ``patterns``, ``aws``.
"""
