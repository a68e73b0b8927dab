// Fixed regions in static data: the only memory the core uses, so nothing is
// ever allocated and a call can never run out of memory.
import { INPUT_CAP, OUTPUT_CAP, MSG_CAP } from "./abi";

export const INPUT: usize = memory.data(INPUT_CAP);
export const OUTPUT: usize = memory.data(OUTPUT_CAP);
export const MSG: usize = memory.data(MSG_CAP);
export const NAME: usize = memory.data(64);
