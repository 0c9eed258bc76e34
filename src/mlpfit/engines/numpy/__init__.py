"""The NumPy engine: K members trained on the CPU without torch, each as one flat float32 buffer with
preallocated workspaces (net), hand-written losses and optimizers; mlpfit.scratch is its readable reference."""
