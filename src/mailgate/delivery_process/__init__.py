"""The delivery child of `mailgate serve`: its workers in a process of their own, at a lower CPU
priority, so sending never slows the API (delivery.md decision 12).

`link.py` is what parent and child say over the child's stdin and stdout, `supervisor.py` the
parent's side, `child.py` the child's (`python -m mailgate.delivery_process`).
"""
