"""transferapp: the model-transfer app of bench/model-transfer.ts, for Python Flower."""
