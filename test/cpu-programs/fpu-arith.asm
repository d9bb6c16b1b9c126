; x87 basic arithmetic sweep: FADD FSUB FSUBR FMUL FDIV FDIVR on 12 operand pairs
; and FSQRT on 12 operands, under the four rounding modes (64-bit precision) and
; the 24- and 53-bit precisions (round to nearest). These operations are exactly
; rounded on every x87, so each result is fully determined; the operands are
; pseudo-random 80-bit values (a compile-time LCG) plus the largest and smallest
; normals, 3 and 1/3-ish, so results also overflow, underflow and go inexact.
;
; Printed: "<op> <mode> <i> <exp>_<mantissa> <sw>" with SW masked to TOP, ES, SF and
; the exception flags (C1's round-up indication is not modelled by QEMU's TCG,
; C0/C2/C3 are undefined after arithmetic). No denormal operands: QEMU's TCG does not
; raise DE.
%include "lib.inc"

FBUF equ 0x600
SWBUF equ 0x610
CWBUF equ 0x614
NOPS equ 12

test_main:
    mov eax, cr0
    and eax, ~0x0C
    or eax, 0x22
    mov cr0, eax
    xor ebp, ebp                               ; mode index
.mode:
    xor edi, edi                               ; operation index
.op:
    xor esi, esi                               ; pair index
.pair:
    fninit
    mov ax, [modes + ebp * 2]
    mov [CWBUF], ax
    fldcw [CWBUF]
    ; b = operand[(i*5+3) mod 12], a = operand[i]
    lea eax, [esi * 4 + esi + 3]
    xor edx, edx
    mov ecx, NOPS
    div ecx
    imul edx, edx, 10
    fld tword [operands + edx]
    imul eax, esi, 10
    fld tword [operands + eax]
    call [ops + edi * 4]
    mov eax, [opnames + edi * 4]
    call print_name
    PRINT " "
    mov eax, ebp
    call hex8
    PRINT " "
    mov eax, esi
    call hex8
    PRINT " "
    call show_r80
    inc esi
    cmp esi, NOPS
    jb .pair
    inc edi
    cmp edi, 7
    jb .op
    inc ebp
    cmp ebp, 6
    jb .mode
    jmp finish

op_add:
    fadd st0, st1
    ret
op_sub:
    fsub st0, st1
    ret
op_subr:
    fsubr st0, st1
    ret
op_mul:
    fmul st0, st1
    ret
op_div:
    fdiv st0, st1
    ret
op_divr:
    fdivr st0, st1
    ret
op_sqrt:
    fabs                                       ; keep it in the domain
    fsqrt
    ret
ops: dd op_add, op_sub, op_subr, op_mul, op_div, op_divr, op_sqrt
opnames: dd n_add, n_sub, n_subr, n_mul, n_div, n_divr, n_sqrt
n_add:  db "fadd", 0
n_sub:  db "fsub", 0
n_subr: db "fsubr", 0
n_mul:  db "fmul", 0
n_div:  db "fdiv", 0
n_divr: db "fdivr", 0
n_sqrt: db "fsqrt", 0
; control words, all exceptions masked: RC nearest/down/up/chop at PC 64, then PC 24 and 53
modes: dw 0x037F, 0x077F, 0x0B7F, 0x0F7F, 0x007F, 0x027F

; print_name: the zero-terminated string at EAX
print_name:
    push eax
    push esi
    mov esi, eax
.l:
    mov al, [esi]
    test al, al
    jz .d
    call putc
    inc esi
    jmp .l
.d:
    pop esi
    pop eax
    ret

; show_r80: ST0 as exp_mantissa, then SW (read before the store) masked
show_r80:
    fnstsw [SWBUF]
    fstp tword [FBUF]
    movzx eax, word [FBUF + 8]
    call hex16
    PRINT "_"
    mov eax, [FBUF + 4]
    call hex32
    mov eax, [FBUF]
    call hex32
    PRINT " "
    movzx eax, word [SWBUF]
    and eax, 0xB8FF
    call hex16
    NL
    ret

; operands: 8 from a 64-bit LCG (J bit set, exponents 0x3FE0..0x401F, random sign),
; then the largest normal, the smallest normal, 3.0 and 0.1 (rounded)
align 16
operands:
%assign s 0x2545F4914F6CDD1D
%rep 8
%assign s (s * 6364136223846793005 + 1442695040888963407)
    dq s | 0x8000000000000000
    dw (((s >> 40) & 0x3F) + 0x3FE0) | (((s >> 50) & 1) << 15)
%endrep
    dq 0xFFFFFFFFFFFFFFFF
    dw 0x7FFE
    dq 0x8000000000000000
    dw 0x0001
    dq 0xC000000000000000
    dw 0x4000
    dq 0xCCCCCCCCCCCCCCCD
    dw 0x3FFB

%include "end.inc"
