; reference: bochs
;
; What QEMU's TCG cannot be the reference for (see the notes in the other
; programs), checked against Bochs (p3_katmai model) instead:
;  - segment limits and access checks on every data access: byte/word/dword at and
;    over the limit, expand-down with B=1 and B=0, page granularity, #SS(0) for
;    SS-relative accesses, writes to read-only data and to code, reads of
;    execute-only code, use of a null selector (incl. ES of a string instruction);
;  - the accessed bit set by a CS load;
;  - #AC at CPL 3 (data and stack, error code 0); ICEBP (#DB, no DPL check); DR7.GD; LOCK on MOV and BT (#UD);
;  - CPL after a call gate to conforming code (CS.RPL stays 3);
;  - the EIP saved by a #TS raised after a task switch committed (the new task's);
;  - x87: C1 on round-up, stack overflow/underflow, DE, FPREM1 quotient bits, the
;    unmasked response (no store, no pop) and #MF raised by the next FLD;
;  - CR4.VME: CLI/STI/PUSHF/POPF/IRET acting on VIF in v86 at IOPL 0.
%include "lib.inc"

DATA_AREA equ 0x100000
BUF equ 0x40000

%macro LOADREAD 3
    call t_loadread_%2
    dd %1, %3
%endmacro
%macro R3TRY 2+
    PRINT %1
    PRINT ": "
    mov dword [VAR_RESUME], %%fault
    %2
    mov dword [VAR_RESUME], 0
    PRINT `ok\n`
%%fault:
    jmp SEL_CODE3:%%cs
%%cs:
    mov esp, STACK3
    push dword SEL_DATA3
    pop ds
    push dword SEL_DATA3
    pop es
%endmacro
%macro PRINT16 1
    call p16_inline
    db %1, 0
%endmacro
%macro SHOWV 2
    push ax
    mov ax, %2
    PRINT16 %1
    PRINT16 "="
    call hex16_16
    PRINT16 " "
    pop ax
%endmacro
%macro V86TRY 2+
    PRINT16 %1
    PRINT16 ": "
    mov dword [VAR_RESUME], %%f - ROMBASE
    %2
    mov dword [VAR_RESUME], 0
    PRINT16 `ok\n`
%%f:
%endmacro
; x87: "name: " after FNINIT
%macro T 1
    fninit
    PRINT %1
    PRINT ": "
%endmacro

test_main:
    mov dword [DATA_AREA], 0x11223344
    mov dword [DATA_AREA + 0xFFC], 0xAABBCCDD
    mov dword [DATA_AREA + 0xFFF0], 0x55667788
    DESC 0x40, DATA_AREA, 0xFFF, 0x492        ; data RW, limit 0xFFF
    DESC 0x48, DATA_AREA, 0xFFF, 0x490        ; data read-only
    DESC 0x50, 0, 0xFFF, 0x496                ; expand-down, B=1: 0x1000..0xFFFFFFFF
    DESC 0x58, DATA_AREA, 0xFFF, 0x096        ; expand-down, B=0: 0x1000..0xFFFF
    DESC 0x60, 0, 0xFFFFF, 0xC98              ; code, execute-only
    DESC 0x68, 0, 0xFFFFF, 0xC9A              ; code, readable, accessed bit clear
    DESC 0x78, 0, 0xFFFFF, 0xC9F              ; conforming code DPL 0
    DESC 0x90, DATA_AREA, 0, 0xC92            ; G=1, limit 0 -> 0xFFF
    DESC 0x98, 0, 0x8FFF, 0x492               ; stack, limit 0x8FFF
    mov edi, GDT_BASE + 0x70                  ; call gate DPL 3 -> conforming code
    mov eax, conf_target
    mov bx, 0x78
    mov dx, 0xEC00
    call set_gate

    ; ---- limits and access checks
    TRY "lim-dword-at-limit", LOADREAD 0x40, dword, 0xFFC
    TRY "lim-dword-over", LOADREAD 0x40, dword, 0xFFD
    TRY "lim-byte-at-limit", LOADREAD 0x40, byte, 0xFFF
    TRY "lim-byte-over", LOADREAD 0x40, byte, 0x1000
    TRY "lim-word-straddle", LOADREAD 0x40, word, 0xFFF
    TRY "lim-huge-offset", LOADREAD 0x40, byte, 0xFFFFFFFF
    TRY "ro-read", LOADREAD 0x48, dword, 0
    TRY "ro-write", call t_ro_write
    TRY "ro-rmw", call t_ro_rmw
    TRY "expdown-below", LOADREAD 0x50, byte, 0xFFF
    TRY "expdown-straddle", LOADREAD 0x50, dword, 0xFFE
    TRY "expdown-bottom", LOADREAD 0x50, byte, 0x1000
    TRY "expdown-top", LOADREAD 0x50, dword, 0xFFFFFFFC
    TRY "expdown-b0-top", LOADREAD 0x58, dword, 0xFFF0
    TRY "expdown-b0-over", LOADREAD 0x58, byte, 0x10000
    TRY "expdown-b0-straddle", LOADREAD 0x58, dword, 0xFFFD
    TRY "gran-ok", LOADREAD 0x90, dword, 0xFFC
    TRY "gran-over", LOADREAD 0x90, byte, 0x1000
    TRY "ss-explicit", call t_ss_limit
    TRY "ss-ebp", call t_ss_ebp
    TRY "ss-esp-based", call t_ss_esp
    TRY "fs-sib", call t_fs_sib
    TRY "null-ds", call t_null_ds
    TRY "null-es-stosd", call t_null_es
    TRY "null-fs-write", call t_null_fs
    TRY "cs-write", mov [cs:BUF], al
    TRY "cs-read-xonly", call t_cs_xonly
    TRY "cs-accessed", call t_cs_accessed

    ; ---- misc. exceptions
    TRY "lock-mov", call t_lock_mov
    TRY "lock-bt", call t_lock_bt
    TRY "icebp", db 0xF1
    TRY "dr7-gd", call t_gd
    mov dword [VAR_R3FLAGS], 0x3002
    mov eax, r3_tests
    call run_ring3
    mov eax, cr0
    or eax, 0x40000                             ; CR0.AM: #AC at CPL 3 with EFLAGS.AC
    mov cr0, eax
    mov eax, r3_ac_tests
    call run_ring3
    mov eax, cr0
    and eax, ~0x40000
    mov cr0, eax

    ; ---- #TS after the commit point of a task switch
    call t_task_ts

    ; ---- x87
    call fpu_tests

    ; ---- VME
    call vme_tests
    jmp finish

; ---------------------------------------------------------------- segments
%macro LOADREAD_FN 2
t_loadread_%1:
    mov esi, [esp]
    mov eax, [esi]
    mov ebx, [esi + 4]
    mov ds, ax
    xor eax, eax
    mov %2, [ebx]
    push dword SEL_DATA0
    pop ds
    SHOW "v", eax
    add dword [esp], 8
    ret
%endmacro
    LOADREAD_FN byte, al
    LOADREAD_FN word, ax
    LOADREAD_FN dword, eax

t_ro_write:
    mov ax, 0x48
    mov ds, ax
    mov dword [0], 0
    ret
t_ro_rmw:
    mov ax, 0x48
    mov ds, ax
    inc dword [4]
    ret
t_ss_limit:
    mov ax, 0x98
    mov ss, ax
    mov eax, [ss:0x8FFC]
    mov eax, [ss:0x8FFD]
    ret
t_ss_ebp:
    mov ax, 0x98
    mov ss, ax
    mov ebp, 0x9000
    mov eax, [ebp]                            ; SS is EBP's default segment
    ret
t_ss_esp:
    mov ax, 0x98
    mov ss, ax
    mov eax, [esp + 0x1000]
    ret
t_fs_sib:
    mov ax, 0x40
    mov fs, ax
    mov ebx, 0x800
    mov eax, [fs:ebx + ebx - 4]               ; 0xFFC: the last dword
    SHOW "v", eax
    mov eax, [fs:ebx + ebx - 3]
    ret
t_null_ds:
    xor eax, eax
    mov ds, ax
    mov eax, [0]
    ret
t_null_es:
    xor eax, eax
    mov es, ax
    mov edi, BUF
    stosd
    ret
t_null_fs:
    xor eax, eax
    mov fs, ax
    mov [fs:BUF], eax
    ret
t_cs_xonly:
    jmp 0x60:.x
.x:
    mov al, [cs:BUF]
    ret
t_cs_accessed:
    movzx eax, byte [GDT_BASE + 0x68 + 5]
    SHOW "before", eax
    jmp 0x68:.x
.x:
    jmp SEL_CODE0:.y
.y:
    movzx eax, byte [GDT_BASE + 0x68 + 5]
    SHOW "after", eax
    ret

t_lock_mov:
    mov ebx, BUF
    db 0xF0, 0x89, 0x03                        ; lock mov [ebx], eax
    ret
t_lock_bt:
    mov ebx, BUF
    db 0xF0, 0x0F, 0xA3, 0x03                  ; lock bt [ebx], eax
    ret
t_gd:
    mov eax, 0x2000
    mov dr7, eax
    mov dword [VAR_RESUME], .r
    mov eax, dr0                               ; #DB (BD) before it executes
.r:
    mov eax, dr7
    and eax, 0x2000
    SHOW "gd-after", eax
    xor eax, eax
    mov dr7, eax
    ret

r3_tests:
    R3TRY "icebp-r3", db 0xF1                   ; no DPL check for ICEBP
    PRINT "conforming-gate: "
    call 0x70:0
    NL
    R3TRY "ac-am-clear", call r3_ac             ; CR0.AM clear: no check
    int 0x31
r3_ac:
    pushfd
    or dword [esp], 0x40000                     ; EFLAGS.AC
    popfd
    mov eax, [BUF + 1]
    mov ax, [BUF + 0x11]
    mov al, [BUF + 0x21]                        ; bytes are never misaligned
    push eax                                    ; ESP is aligned
    pop eax
    ret
r3_ac_tests:
    R3TRY "ac-dword", call r3_ac
    R3TRY "ac-word", call r3_ac_word
    R3TRY "ac-stack", call r3_ac_stack
    int 0x31
r3_ac_word:
    pushfd
    or dword [esp], 0x40000
    popfd
    mov ax, [BUF + 0x11]
    ret
r3_ac_stack:
    pushfd
    or dword [esp], 0x40000
    popfd
    mov ebx, esp
    sub esp, 2                                  ; misaligned ESP: the PUSH faults
    push eax
    mov esp, ebx
    ret
conf_target:
    mov ax, cs
    SHOW16 "cs", eax
    mov ax, ss
    SHOW16 "ss", eax
    retf

; ---------------------------------------------------------------- tasks
; Task E's TSS names DS 0x800 (beyond the GDT): the switch commits, then #TS(0x800)
; is raised in E, with E's first instruction as the saved EIP.
TSSE equ 0x3300
t_task_ts:
    mov edi, TSSE
    xor eax, eax
    mov ecx, 0x68 / 4
    rep stosd
    mov dword [TSSE + 0x20], task_e
    mov dword [TSSE + 0x24], 0x002
    mov dword [TSSE + 0x38], 0xD000
    mov dword [TSSE + 0x48], SEL_DATA0
    mov dword [TSSE + 0x4C], SEL_CODE0
    mov dword [TSSE + 0x50], SEL_DATA0
    mov dword [TSSE + 0x54], 0x800
    mov dword [TSSE + 0x58], SEL_DATA0
    mov dword [TSSE + 0x5C], SEL_DATA0
    mov word [TSSE + 0x66], 0x68
    DESC 0xA8, TSSE, 0x67, 0x89
    mov edi, IDT_BASE + 10 * 8                 ; own #TS handler: DS holds the bad selector
    mov eax, [edi]
    mov ebx, [edi + 4]
    push eax
    push ebx
    mov ecx, 10
    mov eax, h_ts_e
    mov edx, 0x8E00
    call set_idt
    PRINT "task-ts: "
    jmp 0xA8:0
    pop ebx                                    ; back in the first task
    pop eax
    mov [edi], eax
    mov [edi + 4], ebx
    clts
    ret
task_e:
    PRINT `E ran (unexpected)\n`
    jmp SEL_TSS0:0
h_ts_e:
    push dword SEL_DATA0
    pop ds
    push dword SEL_DATA0
    pop es
    mov eax, [esp]
    SHOW16 "err", eax
    mov eax, [esp + 4]
    SHOW "eip", eax
    mov eax, task_e
    SHOW "task_e", eax
    str eax
    SHOW16 "tr", eax
    NL
    jmp SEL_TSS0:0

; ---------------------------------------------------------------- x87
FBUF equ 0x600
SWBUF equ 0x620
CWBUF equ 0x624

fpu_tests:
    mov eax, cr0
    and eax, ~0x0C
    or eax, 0x22                               ; MP, NE
    mov cr0, eax
    T "c1-roundup"                             ; 1/3 rounds up: C1=1
    fld1
    fdiv dword [c_three]
    mov ebx, 0x3AFF                            ; TOP, C1, ES, SF, exception flags
    call show_r80
    T "c1-rounddown"                           ; 1/7 rounds down: C1=0
    fld1
    fdiv dword [c_seven]
    call show_r80
    T "stack-overflow"
    mov ecx, 9
.p:
    fld1
    loop .p
    call show_r80
    T "stack-underflow"
    fld1
    fstp st0
    fadd st0, st1
    call show_r80
    T "de-load-m64"
    fld qword [c_den64]
    call show_r80
    T "de-arith"
    fld tword [c_den80]
    fld1
    faddp
    call show_r80
    T "fprem1-q14"                             ; 29 rem 2: quotient 14 -> C0=1 C3=1 C1=0
    fld1
    fadd st0, st0
    fld dword [c_29]
    fprem1
    mov ebx, 0x7FFF
    call show_r80
    T "fprem1-q9"                              ; 17.5 rem -2: quotient -9 -> C1=1
    fld dword [c_m2]
    fld dword [c_17p5]
    fprem1
    call show_r80
    T "unmasked-ze"
    mov word [CWBUF], 0x037B
    fldcw [CWBUF]
    fld1
    fldz
    fdivp                                       ; no store, no pop
    fnstsw ax
    SHOW16 "sw", eax
    fnclex
    mov ebx, 0x38FF
    call show_r80                               ; ST0 = 0 (unchanged)
    PRINT "   "
    call show_r80                               ; ST1 = 1 (unchanged)
    T "mf-on-fld"
    mov word [CWBUF], 0x037B
    fldcw [CWBUF]
    fld1
    fldz
    fdivp
    mov dword [VAR_RESUME], .mf
    fld1                                        ; waiting instruction: #MF first
    PRINT `NOFAULT\n`
.mf:
    fnstsw ax
    and eax, 0xBFFF
    SHOW16 "sw", eax
    NL
    fninit
    ret

; show_r80: ST0 (popped) as exp_mantissa and SW & EBX (SW read before the store)
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
    movzx eax, word [SWBUF]
    and eax, ebx
    SHOW16 " sw", eax
    NL
    ret

c_three:  dd 3.0
c_seven:  dd 7.0
c_29:     dd 29.0
c_m2:     dd -2.0
c_17p5:   dd 17.5
c_den64:  dq 0x000FFFFFFFFFFFFF
c_den80:  dq 0x0000000000001234
          dw 0

; ---------------------------------------------------------------- VME
; With CR4.VME the 32 bytes below the I/O bitmap are the interrupt redirection
; bitmap: all ones, so every INT n in v86 goes to the protected-mode IDT.
REDIR equ TSS0 + 0x68
IOMAP equ TSS0 + 0x88
vme_tests:
    mov edi, REDIR
    mov al, 0xFF
    mov ecx, 0x20 + 0x81
    rep stosb
    and byte [IOMAP + 0xE9 / 8], ~(1 << (0xE9 & 7))
    and byte [IOMAP + 0xF4 / 8], 0x0F
    mov word [TSS0 + 0x66], 0x88
    and byte [GDT_BASE + SEL_TSS0 + 5], ~2
    mov eax, TSS0
    mov ebx, 0x88 + 0x80
    mov ecx, 0x89
    mov edx, SEL_TSS0
    call set_desc
    mov ax, SEL_TSS0
    ltr ax
    mov al, 0xFF                               ; IF=1 in v86 is safe with the PICs masked
    out 0x21, al
    out 0xA1, al
    mov eax, cr4
    or eax, 1                                  ; VME
    mov cr4, eax
    PRINT `vme\n`
    call .enter
    mov eax, cr4
    and eax, ~1
    mov cr4, eax
    ret
.enter:                                        ; left through ring3_return (VAR_RESUME = 1)
    push ebp
    mov [VAR_SAVEDESP], esp
    mov [TSS0 + 4], esp
    push dword 0                               ; GS FS DS ES
    push dword 0
    push dword 0
    push dword 0
    push dword 0                               ; SS
    push dword 0x7000                          ; ESP
    push dword 0x00020202                      ; VM, IOPL 0, IF 1
    push dword 0xF000
    push dword v86_vme - ROMBASE
    iretd

bits 16
p16_inline:
    push bp
    mov bp, sp
    push si
    push ax
    mov si, [bp + 2]
.l:
    mov al, [cs:si]
    inc si
    test al, al
    jz .e
    out 0xE9, al
    jmp .l
.e:
    mov [bp + 2], si
    pop ax
    pop si
    pop bp
    ret
hex16_16:
    push ax
    push bx
    push cx
    mov bx, ax
    mov cx, 4
.l:
    rol bx, 4
    mov al, bl
    and al, 0x0F
    add al, '0'
    cmp al, '9'
    jbe .d
    add al, 'a' - '9' - 1
.d:
    out 0xE9, al
    loop .l
    pop cx
    pop bx
    pop ax
    ret
v86_vme:
    pushf
    pop ax
    SHOWV "pushf", ax                          ; IF reads VIF, IOPL reads 3
    V86TRY "cli", cli
    pushf
    pop ax
    SHOWV "after-cli", ax
    V86TRY "sti", sti
    pushf
    pop ax
    SHOWV "after-sti", ax
    PRINT16 `\n`
    V86TRY "pushfd", pushfd                    ; only the 16-bit forms are virtualized
    V86TRY "popf-if0", call v86_popf
    V86TRY "iret-if0", call v86_iret
    mov dword [VAR_RESUME], 1                  ; the #GP from INT 0x31 ends the run
    int 0x31
v86_popf:
    push word 0x0002
    popf
    pushf
    pop ax
    SHOWV "pushf", ax
    push word 0x0202
    popf
    pushf
    pop ax
    SHOWV "pushf2", ax
    ret
v86_iret:
    push word 0x0002
    push cs
    push word .back - ROMBASE
    iret
.back:
    pushf
    pop ax
    SHOWV "after-iret", ax
    ret
bits 32

%include "end.inc"
