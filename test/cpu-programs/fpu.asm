; x87: results printed as the hex of m80/m64/m32/integer/BCD stores plus the
; status word. Rounding control and precision control, masked exceptions (IE with
; the indefinite QNaN, ZE, OE, UE, PE),
; integer and BCD conversions, FRNDINT, FPREM/FPREM1 (C0/C3 quotient bits), FSCALE,
; FXTRACT, comparisons (FCOM/FUCOM/FTST/FXAM/FCOMI/FUCOMI), FCMOVcc, constants
; under each rounding mode, tag words from FNSTENV and FXSAVE, FSAVE/FRSTOR,
; and an unmasked exception delivered as #MF (CR0.NE) on the next waiting
; instruction.
;
; Not here: FSIN/FCOS/FSINCOS/FPTAN and inexact results of F2XM1/FYL2X/FYL2XP1/
; FPATAN. They are not correctly rounded on real x87s, and QEMU's TCG computes
; them differently (partly in host double precision), so neither can be the
; reference for the other; exact cases of those instructions are checked.
; FPU instruction/data pointers and the last opcode (FNSTENV bytes 12..27) are not
; printed: QEMU does not keep them like a P6.
%include "lib.inc"

FBUF  equ 0x600            ; 16-byte store buffer
SWBUF equ 0x620
CWBUF equ 0x624
ENVBUF equ 0x640           ; 28-byte FNSTENV / 108-byte FSAVE area
FXBUF equ 0x800            ; 512-byte FXSAVE area (16-byte aligned)

; CW values: RC in bits 10-11, PC in bits 8-9, all exceptions masked (0x3F)
%define CW(rc, pc) (0x003F | ((rc) << 10) | ((pc) << 8) | 0x40)

; T "name" : begin a test: FNINIT, print the name
%macro T 1
    fninit
    PRINT %1
    PRINT ": "
%endmacro
%macro SETCW 1
    mov word [CWBUF], %1
    fldcw [CWBUF]
%endmacro
; R80: prints SW, then pops ST0 as m80
%macro R80 0
    call show_r80
%endmacro
%macro R80CC 0
    call show_r80_cc
%endmacro

test_main:
    mov eax, cr0
    and eax, ~0x0C                              ; EM=0, TS=0
    or eax, 0x22                                ; MP, NE
    mov cr0, eax
    mov eax, cr4
    or eax, 0x200                               ; OSFXSR (FXSAVE layout incl. XMM area)
    mov cr4, eax

    T "init"
    fnstcw [CWBUF]
    movzx eax, word [CWBUF]
    SHOW16 "cw", eax
    fnstsw ax
    SHOW16 "sw", eax
    call show_tags
    NL

    ; ---- 1/3 under each rounding mode (PC=64) and each precision (RC=nearest)
%assign rc 0
%rep 4
    T "third-rc"
    SETCW CW(rc, 3)
    fld1
    fdiv dword [c_three]
    R80
%assign rc rc+1
%endrep
    T "third-pc24"
    SETCW CW(0, 0)
    fld1
    fdiv dword [c_three]
    R80
    T "third-pc53"
    SETCW CW(0, 2)
    fld1
    fdiv dword [c_three]
    R80
    T "pc24-add-exact"                          ; PC does not affect loads, only arithmetic
    SETCW CW(0, 0)
    fld tword [c_pi80]
    fld1
    fmulp
    R80
    ; ---- 2/3 stored as m32 and m64 under each RC
%assign rc 0
%rep 4
    T "two-thirds-m32-m64"
    SETCW CW(rc, 3)
    fld1
    fadd st0, st0
    fdiv dword [c_three]
    fst dword [FBUF]
    fstp qword [FBUF + 4]
    SHOW "m32", [FBUF]
    SHOW "m64hi", [FBUF + 8]
    SHOW "lo", [FBUF + 4]
    call show_sw
    NL
%assign rc rc+1
%endrep

    ; ---- special results, masked
    T "sqrt2"
    fld1
    fadd st0, st0
    fsqrt
    R80
    T "sqrt-neg"
    fld1
    fchs
    fsqrt
    R80
    T "sqrt-negzero"
    fldz
    fchs
    fsqrt
    R80
    T "div-by-zero"
    fld1
    fldz
    fdivp
    R80
    T "zero-div-zero"
    fldz
    fldz
    fdivp
    R80
    T "inf-minus-inf"
    fld1
    fldz
    fdivp
    fld st0
    fsubp
    R80
    T "overflow"
    fld tword [c_max80]
    fadd st0, st0
    R80
    T "overflow-chop"                           ; RC=chop gives the largest finite
    SETCW CW(3, 3)
    fld tword [c_max80]
    fadd st0, st0
    R80
    T "underflow"
    fld tword [c_tiny80]
    fmul st0, st0
    R80
    T "denormal-result"
    fld tword [c_tiny80]
    fmul dword [c_2m10]
    R80
    ; DE (denormal operand) is not checked: QEMU's TCG raises it neither for loads
    ; nor for arithmetic (1 + an 80-bit denormal gives PE only).
    T "snan-load"
    fld dword [c_snan32]
    R80
    T "qnan-add"
    fld dword [c_qnan32]
    fld1
    faddp
    R80
    T "m32-overflow-store"
    fld tword [c_max80]
    fstp dword [FBUF]
    SHOW "m32", [FBUF]
    call show_sw
    NL

    ; ---- stack overflow/underflow (IE+SF, C1) are not checked: QEMU's TCG does not
    ; detect x87 stack faults (a ninth load overwrites, an empty register reads as a value).
    T "free-incstp"
    fld1
    fldz
    ffree st1
    fincstp
    fincstp
    fdecstp
    call show_sw
    call show_tags
    NL

    ; ---- integers
    T "fild-fistp-q"
    fild qword [c_i64]
    fistp qword [FBUF]
    SHOW "hi", [FBUF + 4]
    SHOW "lo", [FBUF]
    call show_sw
    NL
%assign rc 0
%rep 4
    T "fist-rc"
    SETCW CW(rc, 3)
    fld dword [c_2p5]
    fistp dword [FBUF]
    SHOW "p2.5", [FBUF]
    fld dword [c_m2p5]
    fistp dword [FBUF]
    SHOW "m2.5", [FBUF]
    fld dword [c_m2p5]
    frndint
    fstp dword [FBUF]
    SHOW "rndint", [FBUF]
    call show_sw
    NL
%assign rc rc+1
%endrep
    T "fist-range"
    fld dword [c_3e9]
    fistp dword [FBUF]
    SHOW "m32", [FBUF]
    fld dword [c_3e9]
    fistp word [FBUF]
    movzx eax, word [FBUF]
    SHOW "m16", eax
    call show_sw
    NL
    T "fild-w-neg"
    fild word [c_i16]
    R80
    T "fbstp"
    fild dword [c_123456789]
    fchs
    fbstp [FBUF]
    SHOW "bcd-hi", [FBUF + 6]
    SHOW "lo", [FBUF]
    call show_sw
    NL
    T "fbld"
    fbld [c_bcd]
    R80

    ; ---- FRNDINT, FPREM, FPREM1, FSCALE, FXTRACT
    T "fprem"
    fld dword [c_m2]
    fld dword [c_17p5]
    fprem
    R80CC
    T "fprem1"
    fld dword [c_m2]
    fld dword [c_17p5]
    fprem1
    R80CC
    T "fprem-q"                                 ; 23.5 rem 2: quotient 11
    fld1
    fadd st0, st0
    fld dword [c_23p5]
    fprem
    R80CC
    ; FPREM1 with quotient 14 (29 rem 2) is not checked: QEMU's TCG reports no
    ; quotient bits there, where the SDM has C0=Q2, C3=Q1.
    T "fprem-partial"                           ; exponent difference > 63: C2 set, partial
    fld1
    fld tword [c_big80]
    fprem
    R80CC
    T "fscale"
    fld dword [c_m2p5]                          ; scale -2.5 truncates to -2
    fld dword [c_17p5]
    fscale
    R80
    T "fxtract"
    fld dword [c_17p5]
    fxtract
    R80
    R80
    T "fxtract-zero"
    fldz
    fxtract
    R80
    R80
    ; exact F2XM1/FYL2X results: the value only — QEMU leaves PE clear, Bochs sets it,
    ; and what a P6 does is not known here.
    T "f2xm1-exact"
    fld1
    fchs
    f2xm1
    call show_m80_short
    NL
    T "fyl2x-exact"
    fld1
    fld dword [c_8]
    fyl2x
    call show_m80_short
    NL
    T "fpatan-zero"
    fldz
    fld1
    fpatan
    R80

    ; ---- comparisons
    T "fcom"
    call compares
    T "fxam"
    call xams
    T "fcomi"
    fld dword [c_2p5]
    fld1
    fcomi st0, st1
    SHOWFLAGS 0x8D5
    fucomi st0, st0
    SHOWFLAGS 0x8D5
    fld dword [c_qnan32]
    fucomi st0, st1
    SHOWFLAGS 0x8D5
    call show_sw
    fcomi st0, st1                              ; FCOMI signals IE on a QNaN, FUCOMI does not
    SHOWFLAGS 0x8D5
    call show_sw
    NL
    T "fcmov"
    fld1                                        ; st2 = 1
    fldz                                        ; st1 = 0
    fld dword [c_2p5]                           ; st0 = 2.5
    stc
    fcmovb st0, st1                             ; CF=1: st0 = 0
    xor eax, eax                                ; ZF=1, CF=0
    fcmovne st0, st2                            ; not taken
    fcmovnbe st0, st2                           ; CF=0 and ZF=1: not taken
    fcmove st0, st2                             ; taken: st0 = 1
    R80

    ; ---- constants under each rounding mode
%assign rc 0
%rep 3
    T "consts"
    SETCW CW(rc, 3)
    fldpi
    call show_m80_short
    fldl2e
    call show_m80_short
    fldl2t
    call show_m80_short
    fldlg2
    call show_m80_short
    fldln2
    call show_m80_short
    NL
%assign rc rc+1
%endrep

    ; ---- environment images
    T "fnstenv"
    fld1
    fldz
    fld dword [c_qnan32]
    fld tword [c_tiny80]
    fstp st0
    fnstenv [ENVBUF]
    movzx eax, word [ENVBUF]
    SHOW16 "cw", eax
    movzx eax, word [ENVBUF + 4]
    SHOW16 "sw", eax
    movzx eax, word [ENVBUF + 8]
    SHOW16 "tw", eax
    fldenv [ENVBUF]
    fxsave [FXBUF]
    movzx eax, word [FXBUF]
    SHOW16 "fx-cw", eax
    movzx eax, word [FXBUF + 2]
    SHOW16 "fx-sw", eax
    movzx eax, byte [FXBUF + 4]
    SHOW16 "fx-ftw", eax
    NL
    T "fsave-frstor"
    fld dword [c_17p5]
    fld1
    fsave [ENVBUF]
    movzx eax, word [ENVBUF]
    SHOW16 "cw-after", eax                      ; FSAVE reinitializes
    fnstcw [CWBUF]
    movzx eax, word [CWBUF]
    SHOW16 "cw-now", eax
    frstor [ENVBUF]
    faddp
    R80

    ; ---- #MF: unmasked ZE, reported on the next waiting instruction. Only ES, B and
    ; the exception flags are printed: with the exception unmasked a P6 leaves the
    ; operands and TOP alone (FDIVP does not pop), while QEMU's TCG stores the
    ; masked response and pops, so TOP and the registers are not comparable.
    T "mf"
    SETCW 0x037B                                ; ZE unmasked
    fld1
    fldz
    fdivp                                       ; sets ZE and ES, no trap yet
    fnstsw ax
    and eax, 0x80FF
    SHOW16 "sw", eax
    mov dword [VAR_RESUME], .mf_done
    fwait
    PRINT `NOFAULT\n`
.mf_done:
    fnstsw ax
    and eax, 0x80FF
    SHOW16 "sw-in-handler", eax
    fnclex
    fnstsw ax
    and eax, 0x80FF
    SHOW16 "sw-cleared", eax
    NL
    fninit
    ; A pending unmasked exception must also be reported by the next waiting x87
    ; instruction (e.g. FLD), not only FWAIT; QEMU's TCG only checks at FWAIT, so
    ; that case is not checked.
    jmp finish

; Printed status words keep B, TOP, ES, SF and the exception flags. C0/C2/C3 are
; undefined after loads, stores and arithmetic (SDM, each instruction's "FPU Flags
; Affected"); they are printed only where defined: compares, FXAM, FPREM (R80CC).
; C1 is never printed with results: on a P6 it reports a round-up (and FPREM's Q0),
; QEMU's TCG leaves it clear. FXAM and the compares print it (sign / 0).
%define SW_MASK 0xB8FF
%define SW_MASK_CC 0xFDFF
; show_r80: "<exp> <mantissa> sw=xxxx" of ST0 (popped); SW is taken before the store.
show_r80:
    push dword SW_MASK
    jmp show_r80_common
show_r80_cc:
    push dword SW_MASK_CC
show_r80_common:
    fnstsw [SWBUF]
    fstp tword [FBUF]
    movzx eax, word [FBUF + 8]
    call hex16
    PRINT "_"
    mov eax, [FBUF + 4]
    call hex32
    mov eax, [FBUF]
    call hex32
    movzx eax, word [SWBUF]
    and eax, [esp]
    SHOW16 " sw", eax
    NL
    add esp, 4
    ret
; show_m80_short: ST0 (popped) as exp_mant without SW or newline
show_m80_short:
    fstp tword [FBUF]
    movzx eax, word [FBUF + 8]
    call hex16
    PRINT "_"
    mov eax, [FBUF + 4]
    call hex32
    mov eax, [FBUF]
    call hex32
    PRINT " "
    ret
show_sw:
    push eax
    fnstsw ax
    and eax, SW_MASK
    SHOW16 "sw", eax
    pop eax
    ret
show_tags:
    push eax
    fnstenv [ENVBUF]
    fldenv [ENVBUF]                             ; FNSTENV masks all exceptions; restore the CW
    movzx eax, word [ENVBUF + 8]
    SHOW16 "tw", eax
    pop eax
    ret

; compares: FCOM/FUCOM/FTST/FCOMP against a set of pairs; prints C3 C2 C1 C0.
compares:
    mov esi, cmp_pairs
.l:
    cmp esi, cmp_pairs_end
    jae .d
    fninit
    fld dword [esi + 4]
    fld dword [esi]
    fcom st0, st1
    fnstsw ax
    and eax, 0x4700
    PRINT "c="
    call hex16
    fnclex
    fucom st0, st1
    fnstsw ax
    and eax, 0x47FF
    PRINT "/u="
    call hex16
    fnclex
    ftst
    fnstsw ax
    and eax, 0x47FF
    PRINT "/t="
    call hex16
    PRINT " "
    add esi, 8
    jmp .l
.d:
    NL
    ret
cmp_pairs:
    dd 1.0, 2.0
    dd 2.0, 1.0
    dd 1.0, 1.0
    dd -0.0, 0.0
    dd 0x7FC00000, 1.0                          ; QNaN
    dd 0x7FA00000, 1.0                          ; SNaN (becomes QNaN on load, IE)
    dd -1.0, 0x7F800000                         ; -1 vs +inf
cmp_pairs_end:

; xams: FXAM of several values; prints C3 C2 C1 C0 (C1 = sign).
xams:
    mov esi, xam_vals
.l:
    cmp esi, xam_vals_end
    jae .d
    fninit
    fld tword [esi]
    fxam
    fnstsw ax
    and eax, 0x4700
    call hex16
    PRINT " "
    add esi, 10
    jmp .l
.d:
    fninit
    fxam                                        ; empty register
    fnstsw ax
    and eax, 0x4700
    call hex16
    NL
    ret
xam_vals:
    dt 0.0
    dt -1.5
    dq 0x8000000000000000
    dw 0xFFFF                                   ; -inf
    dq 0xC000000000000000
    dw 0x7FFF                                   ; QNaN
    dq 0x0000000000000001
    dw 0x0000                                   ; denormal
    dq 0x4000000000000000
    dw 0x0001                                   ; unnormal (J bit clear, exponent non-zero)
xam_vals_end:

align 16
c_three:   dd 3.0
c_2p5:     dd 2.5
c_m2p5:    dd -2.5
c_m2:      dd -2.0
c_8:       dd 8.0
c_17p5:    dd 17.5
c_23p5:    dd 23.5
c_29:      dd 29.0
c_3e9:     dd 3.0e9
c_2m10:    dd 0x3A800000                        ; 2^-10
c_snan32:  dd 0x7FA00000
c_qnan32:  dd 0x7FC00000
c_i16:     dw -12345
c_123456789: dd 123456789
c_i64:     dq 0x123456789ABCDEF0
c_den64:   dq 0x000FFFFFFFFFFFFF               ; largest double denormal
c_bcd:     db 0x21, 0x43, 0x65, 0x87, 0x09, 0, 0, 0, 0, 0x80   ; -987654321
c_pi80:    dq 0xC90FDAA22168C235
           dw 0x4000
c_max80:   dq 0xFFFFFFFFFFFFFFFF
           dw 0x7FFE
c_tiny80:  dq 0x8000000000000000
           dw 0x0001                            ; smallest normal
c_big80:   dq 0x8000000000000000
           dw 0x3FFF + 100                      ; 2^100: FPREM needs more than one step
c_den80:   dq 0x0000000000001234
           dw 0x0000                            ; an 80-bit denormal

%include "end.inc"
