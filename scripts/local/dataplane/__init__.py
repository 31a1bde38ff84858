"""The local data plane: runs what moto stores but never runs (see core.DataPlane)."""
