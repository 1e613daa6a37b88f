/*
 * A stand-in for Windows' bcryptprimitives.dll, for the test set-up only (tests/windows/setup.sh
 * copies it into the Wine prefix; it is never shipped). Rust's std (1.78 and later) imports
 * ProcessPrng from that DLL for its random numbers (HashMap's RandomState among them), and Wine 8.0
 * lacks it: without this file every Rust program exits with status 53 before main (the low byte
 * of STATUS_DLL_NOT_FOUND, 0xC0000135). It fills the buffer from RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 */
#include <windows.h>

BOOLEAN NTAPI SystemFunction036(PVOID buffer, ULONG length);

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    /* RtlGenRandom takes a 32-bit length. */
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk)) {
            return FALSE;
        }
        data += chunk;
        length -= chunk;
    }
    /* Windows documents ProcessPrng as always returning TRUE. */
    return TRUE;
}
