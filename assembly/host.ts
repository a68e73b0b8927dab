// The host imports: the only way the core acts on the world. Each returns 0
// or a negative errno; slots name descriptors the host keeps for this call.

@external("env", "open_trusted")
export declare function open_trusted(slot: i32, path: usize, len: i32, mode: i32, flags: i32): i32;

@external("env", "mkdir_at")
export declare function mkdir_at(parent: i32, slot: i32, name: usize, nameLen: i32,
                                 path: usize, pathLen: i32, mode: i32, uid: u32, gid: u32,
                                 flags: i32): i32;

@external("env", "unshare_mount_ns")
export declare function unshare_mount_ns(): i32;

@external("env", "make_slave")
export declare function make_slave(): i32;

@external("env", "open_private")
export declare function open_private(slot: i32, expect: i32, path: usize, len: i32, uid: u32): i32;

@external("env", "open_target")
export declare function open_target(slot: i32, path: usize, len: i32): i32;

@external("env", "bind")
export declare function bind(source: i32, target: i32, targetPath: usize, targetLen: i32,
                             sourcePath: usize, sourceLen: i32): i32;

@external("env", "mark_ended")
export declare function mark_ended(parent: i32, name: usize, nameLen: i32,
                                   path: usize, pathLen: i32, uid: u32): i32;

@external("env", "remove_at")
export declare function remove_at(parent: i32, hold: i32, name: usize, nameLen: i32,
                                  path: usize, pathLen: i32, uid: u32, flags: i32): i32;

@external("env", "drain_at")
export declare function drain_at(hold: i32, parent: i32, prefix: usize, prefixLen: i32,
                                 path: usize, pathLen: i32, budget: i32, flags: i32): i32;

@external("env", "continue_at")
export declare function continue_at(parent: i32, name: usize, nameLen: i32,
                                    path: usize, pathLen: i32, budget: i32): i32;

@external("env", "ns_enter")
export declare function ns_enter(dir: i32, name: usize, nameLen: i32,
                                 path: usize, pathLen: i32, flags: i32): i32;

@external("env", "ns_ready")
export declare function ns_ready(): i32;

@external("env", "ns_release")
export declare function ns_release(dir: i32, name: usize, nameLen: i32,
                                   path: usize, pathLen: i32, flags: i32): i32;

@external("env", "mount_tmpfs")
export declare function mount_tmpfs(slot: i32, path: usize, pathLen: i32, sizeMb: u32, inodes: u32,
                                    mode: i32, uid: u32, gid: u32, flags: i32): i32;

@external("env", "set_env")
export declare function set_env(name: usize, nameLen: i32, value: usize, valueLen: i32): i32;
