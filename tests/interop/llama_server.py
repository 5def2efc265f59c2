"""`python llama_server.py --config_file F`: llama-cpp-python's own server, unchanged,
with llama.cpp's extra buffer types (weight repacking) turned off.

Why: on virtual machines whose CPU advertises AMX but whose hypervisor does not
let guests run it (the Firecracker VMs CI runs on), llama.cpp's repacked AMX
matrix kernels die with SIGILL ("Illegal instruction", `tilezero`) as soon as a
prompt is longer than a few tokens. The server has no setting for
`use_extra_bufts`, so it is switched off here before the server loads the model.
"""

from __future__ import annotations

import runpy

import llama_cpp.llama_cpp as bindings

_default_params = bindings.llama_model_default_params


def _model_params() -> bindings.llama_model_params:
    params = _default_params()
    params.use_extra_bufts = False
    return params


bindings.llama_model_default_params = _model_params
runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)
