"""Running the web app with uvicorn: what ``digitlab serve`` does."""

from __future__ import annotations

import socket

import click

from digitlab.errors import DigitlabError

__all__ = ["bind", "run_server", "url_for"]


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port``, or a clear error if it cannot be had."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror:
        raise DigitlabError(
            f"Cannot listen on {host!r}: no such address; use 127.0.0.1 (this "
            "computer only) or 0.0.0.0 (the whole network)."
        ) from None
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        sock.close()
        if exc.errno in (98, 48, 10048):  # address in use (Linux, macOS, Windows)
            raise DigitlabError(
                f"Port {port} on {host} is already in use; stop the other server "
                f"or choose another port with --port {port + 1}."
            ) from None
        raise DigitlabError(
            f"Cannot listen on {host}:{port} ({exc.strerror}); choose another "
            "--host or --port."
        ) from None
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def url_for(host: str, port: int) -> str:
    """The address to open in a browser."""
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{port}"


def run_server(
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    model_path=None,
    examples_dir="digitlab-examples",
    model=None,
    recipe: str | None = None,
    workers: int = 1,
    announce=click.echo,
) -> None:
    """Load the model, bind the port, say where to go, and serve until Ctrl+C.

    The model is loaded before the port is bound, so a bad ``--model`` is an
    error line, not a server that fails on its first request. With
    ``workers`` > 1 that many processes prepare pictures side by side.
    """
    import uvicorn

    from digitlab.web.app import create_app
    from digitlab.web.pool import check_workers, freeze_heap, one_blas_thread

    check_workers(workers)
    if recipe is not None and model_path is not None:
        raise DigitlabError(
            "--model and --recipe both choose the model; give only one of them."
        )
    if model is None and model_path is not None:
        from digitlab.modelfile import load_model

        model = load_model(model_path)
    if model is None:
        from digitlab.predict import default_model
        from digitlab.recipes import get_recipe

        if recipe is not None:
            get_recipe(recipe)  # an unknown name is a clear error before any work
        model = default_model(recipe)
    app = create_app(model, examples_dir=examples_dir, workers=workers)
    sock = bind(host, port)
    real_port = sock.getsockname()[1]
    if host in ("0.0.0.0", "::"):
        announce(
            f"digitlab is running at {url_for(host, real_port)} — open "
            f"http://<this computer's address>:{real_port} in a browser on your "
            "network (anyone on it can reach this page)"
        )
    else:
        announce(
            f"digitlab is running at {url_for(host, real_port)} — open it in your "
            "browser"
        )
    announce("Press Ctrl+C to stop.")
    one_blas_thread()
    freeze_heap()
    config = uvicorn.Config(app, log_level="warning", access_log=False)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except KeyboardInterrupt:  # Ctrl+C, as announced: a normal stop, not an abort
        pass
    finally:
        sock.close()
