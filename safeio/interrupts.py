"""Ctrl-C held through a step that must not stop halfway (a folder swap, a WAV written through
soundfile's callbacks)."""

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

    Only the main thread gets signals, and a handler of the program's own (a server's) is
    left alone: the block then runs as it is.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield
        return
    caught = []
    before = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)
    if caught:
        raise KeyboardInterrupt
