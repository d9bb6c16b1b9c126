/*
 * Reference runner: executes x87 instruction sequences on the host's real FPU.
 * Built by test/unit/fpu/x87-vs-host.test.ts with gcc into a temp dir (x86-64).
 *
 * stdin, one case per line:   CW N V1..VN CODE MEM
 *   CW    control word (hex), loaded after the values
 *   N     number of 80-bit values to push (V1 first, so VN ends up in ST0)
 *   Vi    20 hex digits: sign|exponent (4) then significand (16), big-endian
 *   CODE  hex bytes of the instruction(s) under test; memory operands use
 *         ModR/M mod=00 rm=010, i.e. [rdx] -> the MEM buffer
 *   MEM   hex bytes for the 512-byte memory-operand buffer ("-" = zeros)
 * stdout, one line per case:  SAVE MEM RAX RFLAGS
 *   SAVE  the 108-byte FNSAVE image taken right after CODE (32-bit layout)
 *   MEM   the first 128 bytes of the memory buffer afterwards
 *   RAX / RFLAGS after CODE (EAX was zeroed by SUB EAX,EAX: ZF=PF=1, other arithmetic flags 0)
 * CODE must not execute a waiting x87 instruction while an unmasked exception
 * is pending (that would be #MF/SIGFPE on the host).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/mman.h>

typedef void (*stub_fn)(uint8_t *ctx, uint8_t *mem);

static int hexval(int c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Parse hex string into out, returns byte count. */
static int parse_hex(const char *s, uint8_t *out, int max) {
  int n = 0;
  if (strcmp(s, "-") == 0) return 0;
  while (s[0] && s[1] && n < max) {
    out[n++] = (uint8_t)(hexval(s[0]) * 16 + hexval(s[1]));
    s += 2;
  }
  return n;
}

static void emit(uint8_t **p, const uint8_t *b, int n) { memcpy(*p, b, n); *p += n; }
static void emit32(uint8_t **p, uint32_t v) { memcpy(*p, &v, 4); *p += 4; }

int main(void) {
  uint8_t *code = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (code == MAP_FAILED) { perror("mmap"); return 1; }
  static uint8_t ctx[1024] __attribute__((aligned(16)));
  static uint8_t mem[512] __attribute__((aligned(16)));
  static char line[8192];
  while (fgets(line, sizeof line, stdin)) {
    char *tok[32];
    int nt = 0;
    for (char *t = strtok(line, " \t\r\n"); t && nt < 32; t = strtok(NULL, " \t\r\n")) tok[nt++] = t;
    if (nt < 4) continue;
    memset(ctx, 0, sizeof ctx);
    memset(mem, 0, sizeof mem);
    unsigned cw = (unsigned)strtoul(tok[0], NULL, 16);
    int nv = atoi(tok[1]);
    ctx[0] = cw & 0xff; ctx[1] = cw >> 8;
    for (int i = 0; i < nv; i++) {
      uint8_t be[10];
      parse_hex(tok[2 + i], be, 10);
      /* little-endian tbyte at ctx+16+16*i */
      for (int j = 0; j < 10; j++) ctx[16 + 16 * i + j] = be[9 - j];
    }
    uint8_t op[256];
    int nop = parse_hex(tok[2 + nv], op, sizeof op);
    parse_hex(tok[3 + nv], mem, sizeof mem);

    mprotect(code, 4096, PROT_READ | PROT_WRITE);
    uint8_t *p = code;
    emit(&p, (const uint8_t[]){0x48, 0x89, 0xf2}, 3);          /* mov rdx, rsi */
    emit(&p, (const uint8_t[]){0xdb, 0xe3}, 2);                /* fninit */
    for (int i = 0; i < nv; i++) {                              /* fld tbyte [rdi+16+16i] */
      emit(&p, (const uint8_t[]){0xdb, 0xaf}, 2);
      emit32(&p, 16 + 16 * i);
    }
    emit(&p, (const uint8_t[]){0xd9, 0x2f}, 2);                /* fldcw [rdi] */
    emit(&p, (const uint8_t[]){0x29, 0xc0}, 2);                /* sub eax, eax */
    emit(&p, op, nop);
    emit(&p, (const uint8_t[]){0x48, 0x89, 0x87}, 3); emit32(&p, 0x200); /* mov [rdi+0x200], rax */
    emit(&p, (const uint8_t[]){0x9c, 0x58}, 2);                /* pushfq; pop rax */
    emit(&p, (const uint8_t[]){0x48, 0x89, 0x87}, 3); emit32(&p, 0x208); /* mov [rdi+0x208], rax */
    emit(&p, (const uint8_t[]){0xdd, 0xb7}, 2); emit32(&p, 0x100);       /* fnsave [rdi+0x100] */
    emit(&p, (const uint8_t[]){0xc3}, 1);                      /* ret */
    mprotect(code, 4096, PROT_READ | PROT_EXEC);
    ((stub_fn)(void *)code)(ctx, mem);

    for (int i = 0; i < 108; i++) printf("%02x", ctx[0x100 + i]);
    putchar(' ');
    for (int i = 0; i < 128; i++) printf("%02x", mem[i]);
    uint64_t rax, fl;
    memcpy(&rax, ctx + 0x200, 8);
    memcpy(&fl, ctx + 0x208, 8);
    printf(" %016llx %016llx\n", (unsigned long long)rax, (unsigned long long)fl);
    fflush(stdout);
  }
  return 0;
}
