"""The demo: a breast cancer screening project made of real scikit-learn runs.

``loopwise demo`` seeds it through the SDK (``seed.seed_demo``) and serves it.
"""

from loopwise.demo.seed import PROJECT_KEY, SeedResult, seed_demo

__all__ = ["PROJECT_KEY", "SeedResult", "seed_demo"]
