"""One module per mechanism. Each exposes a ``step(model, ts)`` run once a tick by
:meth:`sim.model.WelfareModel.step` in the order written there, and can be switched off by its
``mechanisms.*`` parameter."""
