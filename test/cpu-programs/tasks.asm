; Hardware task switches (32-bit TSS): JMP and CALL to a TSS, task gates in the
; GDT and the IDT (INT n and an exception with its error code), IRET with NT back
; through the back link, busy bits, state saved into the outgoing TSS, CR0.TS,
; LDTR loaded from the TSS, and the faults: busy target (#GP), TSS too small (#TS),
; IRET to a task that is not busy (#TS), an invalid selector in the incoming TSS
; (#TS raised in the new task).
%include "lib.inc"

TSSB equ 0x3200
TSSC equ 0x3300
TSSD equ 0x3400
TSSE equ 0x3500
LDTC equ 0x3600
SEL_B  equ 0x40
SEL_C  equ 0x48
SEL_D  equ 0x50
SEL_CG equ 0x58            ; task gate in the GDT -> C
SEL_SMALL equ 0x60         ; TSS descriptor with limit 0x50
SEL_E  equ 0x68
SEL_LDTC equ 0x70

; MKTSS base, eip, esp, ldt
%macro MKTSS 4
    pushad
    mov edi, %1
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [%1 + 0x20], %2
    mov dword [%1 + 0x24], 0x002
    mov dword [%1 + 0x38], %3
    mov dword [%1 + 0x48], SEL_DATA0           ; ES
    mov dword [%1 + 0x4C], SEL_CODE0           ; CS
    mov dword [%1 + 0x50], SEL_DATA0           ; SS
    mov dword [%1 + 0x54], SEL_DATA0           ; DS
    mov dword [%1 + 0x58], SEL_DATA0           ; FS
    mov dword [%1 + 0x5C], SEL_DATA0           ; GS
    mov dword [%1 + 0x60], %4
    mov word [%1 + 0x66], 0x68
    popad
%endmacro
%macro BUSY 2               ; prints "name=type" of a TSS descriptor (9 available, B busy)
    movzx eax, byte [GDT_BASE + %2 + 5]
    and eax, 0x0F
    PRINT %1
    PRINT "="
    call hex8
    PRINT " "
%endmacro
%macro NTFLAG 0
    pushfd
    pop eax
    shr eax, 14
    and eax, 1
    PRINT "nt="
    call hex8
    PRINT " "
%endmacro

test_main:
    MKTSS TSSB, task_b, 0xA000, 0
    MKTSS TSSC, task_c, 0xB000, SEL_LDTC
    MKTSS TSSD, task_d, 0xC000, 0
    MKTSS TSSE, task_e, 0xD000, 0
    mov dword [TSSE + 0x54], 0x800             ; DS beyond the GDT limit
    DESC SEL_B, TSSB, 0x67, 0x89
    DESC SEL_C, TSSC, 0x67, 0x89
    DESC SEL_D, TSSD, 0x67, 0x89
    DESC SEL_E, TSSE, 0x67, 0x89
    DESC SEL_SMALL, TSSB, 0x50, 0x89
    DESC SEL_LDTC, LDTC, 0x0F, 0x82
    mov edi, GDT_BASE + SEL_CG
    xor eax, eax
    mov bx, SEL_C
    mov dx, 0x8500
    call set_gate
    ; IDT 0x40: task gate -> C
    mov edi, IDT_BASE + 0x40 * 8
    mov dx, 0x8500
    call set_gate

    ; ---- JMP to B and back
    PRINT `jmp to B\n`
    mov eax, 0xAAAA0001
    mov ebx, 0xAAAA0002
    jmp SEL_B:0
    SHOW "back in A eax", eax
    SHOW "ebx", ebx
    str eax
    SHOW16 "tr", eax
    BUSY "A", SEL_TSS0
    BUSY "B", SEL_B
    mov eax, cr0
    and eax, 8
    SHOW "ts", eax
    clts
    NL
    PRINT `jmp to B again\n`
    jmp SEL_B:0
    BUSY "A", SEL_TSS0
    BUSY "B", SEL_B
    NL

    ; ---- CALL to C, IRET back
    PRINT `call C\n`
    call SEL_C:0
    BUSY "after call: A", SEL_TSS0
    BUSY "C", SEL_C
    NTFLAG
    SHOW "C.eip", [TSSC + 0x20]
    NL
    PRINT `call C via GDT task gate\n`
    call SEL_CG:0
    NL
    PRINT `int 0x40 via IDT task gate\n`
    int 0x40
    NL
    clts

    ; ---- faults
    TRY "jmp-self-busy", jmp SEL_TSS0:0
    TRY "call-self-busy", call SEL_TSS0:0
    TRY "tss-too-small", jmp SEL_SMALL:0
    TRY "iret-nt-not-busy", call t_iret_notbusy
    TRY "tss-in-ds", call t_tss_ds
    TRY "task-gate-data", call t_gate_bad

    ; ---- #GP through a task gate: error code on the handler task's stack
    PRINT `gp via task gate\n`
    mov edi, IDT_BASE + 13 * 8
    mov eax, [edi]
    mov ebx, [edi + 4]
    push eax
    push ebx
    xor eax, eax
    mov bx, SEL_D
    mov dx, 0x8500
    call set_gate
    mov ax, 0x818
    mov ds, ax                                 ; #GP(0x818) -> task D, which skips this MOV
    mov eax, ds
    SHOW16 "ds", eax
    NL
    pop ebx
    pop eax
    mov [edi], eax
    mov [edi + 4], ebx
    clts

    ; ---- invalid DS in the incoming TSS: #TS in the context of task E
    PRINT `jmp to E (bad DS)\n`
    mov ecx, 10
    mov eax, h_ts_e
    mov edx, 0x8E00
    call set_idt
    jmp SEL_E:0
    PRINT "back from E "
    BUSY "E", SEL_E
    NL
    jmp finish

t_iret_notbusy:
    ; NT set with TSS0's back link naming B, which is not busy: #TS(B)
    mov word [TSS0], SEL_B
    pushfd
    or dword [esp], 0x4000
    popfd
    mov dword [VAR_RESUME], .r
    iretd
.r:
    pushfd
    and dword [esp], ~0x4000
    popfd
    mov word [TSS0], 0
    ret
t_tss_ds:
    mov ax, SEL_B
    mov ds, ax
    ret
t_gate_bad:
    ; a task gate must name a TSS descriptor: one naming a data segment is #GP(data sel)
    mov edi, GDT_BASE + 0x78
    xor eax, eax
    mov bx, SEL_DATA0
    mov dx, 0x8500
    call set_gate
    call 0x78:0
    ret

task_b:
    PRINT "in B: "
    str eax
    SHOW16 "tr", eax
    NTFLAG
    movzx eax, word [TSSB]
    SHOW16 "link", eax
    BUSY "A", SEL_TSS0
    BUSY "B", SEL_B
    mov eax, cr0
    and eax, 8
    SHOW "ts", eax
    NL
    PRINT "A saved:"
    SHOW " eip", [TSS0 + 0x20]
    mov eax, [TSS0 + 0x24]
    and eax, 0x00267FD7
    SHOW "efl", eax
    SHOW "eax", [TSS0 + 0x28]
    SHOW "ebx", [TSS0 + 0x34]
    SHOW "esp", [TSS0 + 0x38]
    NL
    PRINT "A sregs:"
    mov esi, TSS0 + 0x48
.s:
    PRINT " "
    movzx eax, word [esi]
    call hex16
    add esi, 4
    cmp esi, TSS0 + 0x64
    jb .s
    NL
    mov ebx, 0xBBBB0002
    jmp SEL_TSS0:0
    ; resumed by the second JMP to B: B's registers come back from TSSB
    SHOW "B again ebx", ebx
    NL
    jmp SEL_TSS0:0

task_c:
    PRINT "in C: "
    str eax
    SHOW16 "tr", eax
    NTFLAG
    movzx eax, word [TSSC]
    SHOW16 "link", eax
    BUSY "A", SEL_TSS0
    BUSY "C", SEL_C
    sldt eax
    SHOW16 "ldtr", eax
    NL
    iretd
    jmp task_c

task_d:
    pop eax
    PRINT "in D: "
    SHOW16 "err", eax
    movzx eax, word [TSSD]
    SHOW16 "link", eax
    NTFLAG
    SHOW "A.eip", [TSS0 + 0x20]
    NL
    add dword [TSS0 + 0x20], 2                 ; skip A's faulting MOV DS, AX
    iretd
    jmp task_d

task_e:
    PRINT `E runs (unexpected)\n`
    jmp SEL_TSS0:0

; #TS handler while E loads its bad DS: runs in E; DS holds the bad selector, so
; it does not save/restore data segments like exc_common does.
h_ts_e:
    push dword SEL_DATA0
    pop ds
    push dword SEL_DATA0
    pop es
    mov eax, [esp]
    PRINT "EXC 0a in E: "
    SHOW16 "err", eax
    ; the saved EIP is not printed: it must be E's first instruction (the fault is
    ; taken in the new task), but QEMU's TCG pushes a mis-restored value here.
    str eax
    SHOW16 "tr", eax
    BUSY "E", SEL_E
    NL
    jmp SEL_TSS0:0

%include "end.inc"
