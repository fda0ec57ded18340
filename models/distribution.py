"""One code path for one device or many: the strategy models are built and trained under."""

import tensorflow as tf


def training_strategy():
    """``MirroredStrategy`` over the GPUs when more than one is visible, else the default
    strategy (one device). Build and compile inside ``strategy.scope()`` either way."""
    gpus = tf.config.list_logical_devices("GPU")
    if len(gpus) > 1:
        return tf.distribute.MirroredStrategy([gpu.name for gpu in gpus])
    return tf.distribute.get_strategy()


def replica_scale():
    """1 / number of replicas: a custom ``train_step`` under ``MirroredStrategy`` must
    scale its per-replica mean loss so that the summed gradients are the global mean's."""
    return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync
