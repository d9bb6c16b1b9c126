; Protected-mode segmentation: selector loads and their faults (#GP/#SS/#NP with
; error codes), accessed bits, conforming code, privilege checks from ring 3,
; LAR/LSL/VERR/VERW (which report limits, expand-down and granularity as the CPU
; decodes them), ARPL, LDT, SGDT/SIDT/SLDT/STR, data segments nulled by a RETF to
; an outer ring.
;
; Not here: checks made on each data access — segment limits (incl. expand-down),
; writes to read-only data or code, reads of execute-only code, use of a null
; selector. QEMU's TCG does not perform them (it translates segment:offset to
; linear without limit/type checks; only descriptor loads, far transfers and
; stack switches are checked), so it cannot be the reference for them.
%include "lib.inc"

DATA_AREA equ 0x100000
LDT_BASE  equ 0x4000

; LOADSEG sreg, selector
%macro LOADSEG 2
    mov ax, %2
    mov %1, ax
%endmacro
; Ring 3 (IOPL 3) counterpart of TRY.
%macro R3TRY 2+
    PRINT %1
    PRINT ": "
    mov dword [VAR_RESUME], %%fault
    %2
    mov dword [VAR_RESUME], 0
    PRINT `ok\n`
%%fault:
    jmp SEL_CODE3:%%cs           ; a test may have left CS elsewhere
%%cs:
    mov esp, STACK3
    push dword SEL_DATA3
    pop ds
    push dword SEL_DATA3
    pop es
%endmacro

test_main:
    mov dword [DATA_AREA], 0x11223344

    DESC 0x40, DATA_AREA, 0xFFF, 0x492        ; data RW, 4 KiB byte-granular
    DESC 0x48, DATA_AREA, 0xFFF, 0x490        ; data read-only
    DESC 0x50, 0, 0, 0x496                    ; expand-down RW, B=1: 1..0xFFFFFFFF (the stack fits)
    DESC 0x58, DATA_AREA, 0xFFF, 0x096        ; expand-down RW, B=0: 0x1000..0xFFFF
    DESC 0x60, 0, 0xFFFFF, 0xC98              ; code execute-only, flat
    DESC 0x68, 0, 0xFFFFF, 0xC9A              ; code readable, flat
    DESC 0x70, 0, 0xFFFFF, 0xC12              ; data, not present
    DESC 0x88, 0, 0xFFFFF, 0xC9E              ; conforming readable code DPL 0
    DESC 0x90, DATA_AREA, 0, 0xC92            ; G=1, limit 0 -> 0xFFF
    DESC 0x98, 0, 0x8FFF, 0x492               ; stack RW, limit 0x8FFF
    DESC 0xA0, LDT_BASE, 0x17, 0x082          ; LDT with 3 entries
    DESC 0xA8, 0, 0xFFFFF, 0xCB2              ; data DPL 1
    DESC 0xB8, DATA_AREA, 0xFFFF, 0x0F2       ; 16-bit data DPL 3, limit 0xFFFF
    DESC 0xC8, 0, 0xFFFFF, 0xCFE              ; conforming readable code DPL 3
    DESC 0xD0, 0, 0xFFFFF, 0xCF8              ; execute-only code DPL 3
    ; 0xB0: 32-bit call gate DPL 3 (for LAR); 0xC0: interrupt gate (LAR rejects it).
    mov edi, GDT_BASE + 0xB0
    mov eax, finish
    mov bx, SEL_CODE0
    mov dx, 0xEC02
    call set_gate
    mov edi, GDT_BASE + 0xC0
    mov dx, 0x8E00
    call set_gate
    ; LDT: entry 1 data RW base DATA_AREA, entry 2 data DPL 3 flat.
    mov dword [LDT_BASE], 0
    mov dword [LDT_BASE + 4], 0
    mov dword [LDT_BASE + 8], 0x0000FFFF
    mov dword [LDT_BASE + 12], 0x00409210
    mov dword [LDT_BASE + 16], 0x0000FFFF
    mov dword [LDT_BASE + 20], 0x00CFF200

    ; ---- selector loads
    TRY "ds-null-load", call t_ds_null_load
    TRY "ss-null", call t_ss_null
    TRY "ds-beyond-gdt", LOADSEG ds, 0x800
    TRY "ds-not-present", LOADSEG ds, 0x70
    TRY "ss-not-present", LOADSEG ss, 0x70
    TRY "ds-exec-only", LOADSEG ds, 0x60
    TRY "ds-readable-code", LOADSEG ds, 0x68
    TRY "ds-rpl3-dpl0", LOADSEG ds, 0x13
    TRY "ss-rpl3", LOADSEG ss, 0x13
    TRY "ss-dpl3", LOADSEG ss, 0x23
    TRY "ss-read-only", LOADSEG ss, 0x48
    TRY "ss-code", LOADSEG ss, 0x68
    TRY "ss-expand-down", LOADSEG ss, 0x50
    TRY "ds-tss", LOADSEG ds, SEL_TSS0
    TRY "ds-ldt-desc", LOADSEG ds, 0xA0
    TRY "ds-ti-no-ldt", LOADSEG ds, 0x0C
    TRY "es-dpl1-rpl1", LOADSEG es, 0xA9
    TRY "es-dpl1-rpl2", LOADSEG es, 0xAA
    TRY "fs-dpl3", LOADSEG fs, 0x23
    TRY "gs-conforming", LOADSEG gs, 0x88
    TRY "gs-exec-only-conforming", LOADSEG gs, 0xD0
    TRY "mov-cs", db 0x8E, 0xC8                ; mov cs, ax is #UD
    ; accessed bit: set_desc wrote 0x92 for 0x40, the load must set bit 0
    TRY "accessed", call t_accessed
    TRY "jmp-far-data", jmp 0x10:finish
    TRY "jmp-far-null", jmp 0x00:finish
    TRY "jmp-far-np", jmp 0x70:finish
    TRY "jmp-far-rpl3-dpl0", jmp 0x0B:finish

    ; ---- LDT
    TRY "lldt-tss", call t_lldt_bad
    TRY "ldt", call t_ldt
    TRY "ltr-busy", call t_ltr_busy
    TRY "sgdt-sidt", call t_sgdt

    ; ---- LAR/LSL/VERR/VERW, ring 0 then ring 3
    mov esi, sel_list
    call probe_all
    mov dword [VAR_R3FLAGS], 0x3002            ; IOPL 3 so ring 3 can print
    mov eax, r3_probe
    call run_ring3

    ; ---- ARPL
    call t_arpl

    ; ---- ring 3: privilege checks and conforming code
    mov eax, r3_priv
    call run_ring3
    ; ---- RETF to ring 3 nulls data segment registers whose DPL < 3
    call t_retf_null
    jmp finish

t_ds_null_load:
    xor eax, eax
    mov ds, ax
    mov ax, ds
    push dword SEL_DATA0
    pop ds
    SHOW16 "ds", eax
    ret
t_ss_null:
    xor eax, eax
    mov ss, ax
    ret
t_accessed:
    mov al, [GDT_BASE + 0x40 + 5]
    SHOW "before", eax
    mov ax, 0x40
    mov es, ax
    mov al, [GDT_BASE + 0x40 + 5]
    SHOW "after", eax
    ret
t_lldt_bad:
    mov ax, SEL_TSS0
    lldt ax
    ret
t_ldt:
    mov ax, 0xA0
    lldt ax
    sldt eax
    SHOW "ldtr", eax
    mov ax, 0x0C                              ; LDT entry 1
    mov ds, ax
    mov eax, [0]
    push dword SEL_DATA0
    pop ds
    SHOW "v", eax
    mov ax, 0x17                              ; LDT entry 2, RPL 3, DPL 3
    mov es, ax
    mov eax, [es:DATA_AREA + 0xFFC]
    SHOW "v2", eax
    mov ax, 0x1C                              ; beyond the LDT limit
    mov ds, ax
    ret
t_ltr_busy:
    str eax
    SHOW "tr", eax
    mov ax, SEL_TSS0
    ltr ax
    ret
t_sgdt:
    sub esp, 8
    sgdt [esp]
    movzx eax, word [esp]
    mov ebx, [esp + 2]
    SHOW "gdtl", eax
    SHOW "gdtb", ebx
    sidt [esp]
    movzx eax, word [esp]
    mov ebx, [esp + 2]
    SHOW "idtl", eax
    SHOW "idtb", ebx
    add esp, 8
    ret

sel_list:
    dw 0x00, 0x08, 0x10, 0x13, 0x1B, 0x23, 0x38, 0x40, 0x48, 0x50, 0x60, 0x70
    dw 0x88, 0x90, 0xA0, 0xA8, 0xB0, 0xB3, 0xB8, 0xC0, 0xC8, 0xD0, 0x800, 0x0C, 0x0F, 0x58, 0x98
    dw 0xFFFF

; probe_all: ESI = list of selectors; prints LAR/LSL/VERR/VERW results for each.
probe_all:
.next:
    movzx ebx, word [cs:esi]
    cmp bx, 0xFFFF
    je .done
    PRINT "probe "
    mov eax, ebx
    call hex16
    mov eax, 0xDEADBEEF                       ; unchanged when ZF=0
    lar eax, ebx
    setz cl
    and eax, 0x00F0FFFF                       ; bits 19:16 are undefined (SDM: masked 00FxFF00H)
    PRINT " lar="
    call hex32
    PRINT "/"
    movzx eax, cl
    call hex8
    mov eax, 0xDEADBEEF
    lsl eax, ebx
    setz cl
    PRINT " lsl="
    call hex32
    PRINT "/"
    movzx eax, cl
    call hex8
    verr bx
    setz cl
    PRINT " verr="
    movzx eax, cl
    call hex8
    verw bx
    setz cl
    PRINT " verw="
    movzx eax, cl
    call hex8
    mov ax, cs
    and eax, 3
    PRINT " cpl="
    call hex8
    NL
    add esi, 2
    jmp .next
.done:
    ret

r3_probe:
    mov esi, sel_list
    call probe_all
    int 0x31

t_arpl:
    mov esi, arpl_cases
.l:
    mov ax, [esi]
    mov bx, [esi + 2]
    cmp ax, 0xFFFF
    je .d
    PRINT "arpl "
    call hex16
    PRINT ","
    xchg eax, ebx
    call hex16
    xchg eax, ebx
    arpl ax, bx
    setz cl
    PRINT " -> "
    call hex16
    PRINT " zf="
    movzx eax, cl
    call hex8
    NL
    add esi, 4
    jmp .l
.d:
    ret
arpl_cases:
    dw 0x0010, 0x0003, 0x0013, 0x0001, 0x0012, 0x0012, 0x0011, 0x0013, 0xFFFC, 0x0002, 0x0000, 0x0000
    dw 0xFFFF, 0xFFFF

r3_priv:
    R3TRY "r3-ds-dpl0", LOADSEG es, 0x10
    R3TRY "r3-ds-dpl1", LOADSEG es, 0xAB
    R3TRY "r3-ds-code-dpl0", LOADSEG es, 0x68
    R3TRY "r3-ds-conforming-dpl0", LOADSEG es, 0x8B
    R3TRY "r3-ss-dpl0", LOADSEG ss, 0x13
    R3TRY "r3-jmp-dpl0", jmp SEL_CODE0:finish
    R3TRY "r3-call-dpl0", call 0x08:finish
    R3TRY "r3-call-conforming", call 0x88:conf_fn
    R3TRY "r3-call-conforming-dpl3", call 0xC8:conf_fn
    R3TRY "r3-call-data", call 0x23:finish
    R3TRY "r3-lgdt", lgdt [0]
    R3TRY "r3-mov-cr0", mov eax, cr0
    R3TRY "r3-hlt", hlt
    R3TRY "r3-ltr", ltr ax
    int 0x31
conf_fn:
    mov ax, cs
    SHOW16 "cs", eax
    mov ax, ss
    SHOW16 "ss", eax
    retf

t_retf_null:
    PRINT "retf-outer: "
    mov ax, SEL_DATA0
    mov ds, ax
    mov ax, 0xA9                              ; DPL 1 data in FS: nulled too
    mov fs, ax
    mov ax, SEL_DATA3
    mov es, ax
    mov ax, 0x8B                              ; conforming code DPL 0 in GS: kept
    mov gs, ax
    pushfd
    or dword [esp], 0x3000                    ; IOPL 3 so ring 3 can print (RETF keeps EFLAGS)
    popfd
    push ebp                                  ; the frame ring3_return unwinds
    mov [VAR_SAVEDESP], esp
    mov [TSS0 + 4], esp
    push dword SEL_DATA3
    push dword STACK3
    push dword SEL_CODE3
    push dword .r3
    retf
.r3:
    mov ax, ds
    mov bx, es
    mov cx, fs
    mov dx, gs
    push dword SEL_DATA3
    pop ds
    SHOW16 "ds", eax
    SHOW16 "es", ebx
    SHOW16 "fs", ecx
    SHOW16 "gs", edx
    NL
    int 0x31

%include "end.inc"
