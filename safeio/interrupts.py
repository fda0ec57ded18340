"""Ctrl-C held through a step that must not stop halfway (a folder swap)."""

import contextlib
import signal
import threading


@contextlib.contextmanager
def interrupts_held():
    """Hold Ctrl-C until the block is done: stopped halfway, a swap would keep the user's
    files in a staging folder until the next run (a kill -9 there is finished by the next
    run all the same).

    Held by a handler that notes the interrupt, raised once the block is done. Blocking the
    signal (``pthread_sigmask``) held it in this thread only: with another thread alive (tqdm's
    monitor), the kernel gave the signal to that one, and the KeyboardInterrupt came in the
    middle of the swap's clean-up (a fresh-clone run of ``preprocess`` under load: "cannot write
    the dataset (Bad file descriptor)", exit 1 instead of 130).
    """
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread is given Ctrl-C's KeyboardInterrupt
        return
    caught = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before if before is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt
