{
  "targets": [{
    "target_name": "ptd_addon",
    "sources": [
      "native/addon.cc", "native/core.c", "native/imports.c", "native/ops.c",
      "native/walk.c", "native/dirs.c", "native/bind.c", "native/detail.c",
      "native/remove.c", "native/hold.c", "native/escape.c", "native/messages.c",
      "native/nsholder.c", "native/nsjoin.c", "native/nssweep.c", "native/nsfind.c",
      "native/detach.c", "native/tmpfs.c", "native/controller.c", "native/readall.c", "native/jobset.c", "native/made.c",
      "dist/gen/core_wasm.c",
      "native/wasm_runtime.c"
    ],
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")",
                     "native", "dist/gen", "/usr/src/wasm2c"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED"],
    "cflags": ["-include", "<(module_root_dir)/dist/gen/w2c_config.h"],
    "cflags_c": ["-std=gnu11", "-w"],
    "cflags_cc": ["-std=c++17", "-fexceptions"],
    "cflags_cc!": ["-fno-exceptions"]
  }]
}
