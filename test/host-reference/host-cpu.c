/*
 * Executes x86 integer instructions on the host CPU and prints the results: the
 * reference for test/host-reference/host-reference.ts.
 *
 * The host is x86-64 and cannot run i386 binaries, but a 64-bit process runs the
 * 32-, 16- and 8-bit register forms with the very same encodings (the vectors
 * avoid the few that differ, like the one-byte INC/DEC that are REX prefixes in
 * 64-bit mode). Each vector's bytes are placed between a prologue that loads
 * EAX/EBX/ECX/EDX and RFLAGS and an epilogue that saves them again.
 *
 * Memory-operand forms address [rdi+0x18] (the same bytes mean [edi+0x18] in
 * 32-bit code), which is the `mem` field here.
 *
 * stdin, one vector per line:  <hex bytes> <eax> <ebx> <ecx> <edx> <eflags> <mem>  (hex)
 * stdout, one line per vector: <eax> <ebx> <ecx> <edx> <eflags> <mem>              (hex)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

struct regs {
    uint32_t eax, ebx, ecx, edx;
    uint64_t rflags;
    uint32_t mem; /* offset 0x18 */
    uint32_t pad;
};

static const unsigned char prologue[] = {
    0x53,             /* push rbx (callee-saved) */
    0x8B, 0x07,       /* mov eax, [rdi] */
    0x8B, 0x5F, 0x04, /* mov ebx, [rdi+4] */
    0x8B, 0x4F, 0x08, /* mov ecx, [rdi+8] */
    0x8B, 0x57, 0x0C, /* mov edx, [rdi+12] */
    0xFF, 0x77, 0x10, /* push qword [rdi+16] */
    0x9D,             /* popfq */
};
static const unsigned char epilogue[] = {
    0x9C,             /* pushfq */
    0x8F, 0x47, 0x10, /* pop qword [rdi+16] */
    0x89, 0x07,       /* mov [rdi], eax */
    0x89, 0x5F, 0x04, /* mov [rdi+4], ebx */
    0x89, 0x4F, 0x08, /* mov [rdi+8], ecx */
    0x89, 0x57, 0x0C, /* mov [rdi+12], edx */
    0x5B,             /* pop rbx */
    0xC3,             /* ret */
};

int main(void) {
    unsigned char *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (page == MAP_FAILED) {
        perror("mmap");
        return 2;
    }
    char line[512];
    while (fgets(line, sizeof line, stdin)) {
        char hex[128];
        unsigned eax, ebx, ecx, edx, fl, mem;
        if (sscanf(line, "%127s %x %x %x %x %x %x", hex, &eax, &ebx, &ecx, &edx, &fl, &mem) != 7) {
            fprintf(stderr, "bad vector: %s", line);
            return 2;
        }
        size_t n = strlen(hex) / 2, off = 0;
        memcpy(page, prologue, sizeof prologue);
        off = sizeof prologue;
        for (size_t i = 0; i < n; i++) {
            unsigned b;
            sscanf(hex + 2 * i, "%2x", &b);
            page[off++] = (unsigned char)b;
        }
        memcpy(page + off, epilogue, sizeof epilogue);
        __builtin___clear_cache((char *)page, (char *)page + 4096);
        struct regs r = {eax, ebx, ecx, edx, fl, mem, 0};
        ((void (*)(struct regs *))page)(&r);
        printf("%08x %08x %08x %08x %08x %08x\n", r.eax, r.ebx, r.ecx, r.edx, (uint32_t)r.rflags, r.mem);
    }
    return 0;
}
