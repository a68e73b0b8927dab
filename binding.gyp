{
  "targets": [{
    "target_name": "ptd_addon",
    "sources": [
      "<!@(sh native/tools/sources.sh addon native/)",
      "dist/gen/core_wasm.c"
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
