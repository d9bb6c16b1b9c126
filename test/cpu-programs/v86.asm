; Virtual-8086 mode: entered by IRETD with EFLAGS.VM, left through interrupts and
; exceptions. Checks IOPL-sensitive instructions with IOPL 0 (#GP(0) to the
; monitor) and IOPL 3, privileged instructions, the TSS I/O permission bitmap
; (which governs IN/OUT in v86 whatever IOPL is), INT n through an IDT gate (the
; 9-dword frame, data segments nulled in the handler), real-mode style address
; formation incl. the 1 MiB wrap with A20 on, and exceptions raised in v86.
%include "lib.inc"

; Printing from v86 (16-bit code in the ROM, CS=F000): port 0xE9 is open in the
; I/O bitmap.
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
; V86TRY "name", instr : the monitor (#GP handler) resumes at the end; DS must be 0.
%macro V86TRY 2+
    PRINT16 %1
    PRINT16 ": "
    mov dword [VAR_RESUME], %%f - ROMBASE
    %2
    mov dword [VAR_RESUME], 0
    PRINT16 `ok\n`
%%f:
%endmacro
%macro LEAVE_V86 0
    mov dword [VAR_RESUME], 1                  ; the #GP/INT 0x31 ends the run
    int 0x31
%endmacro

IOMAP equ TSS0 + 0x68

test_main:
    ; I/O bitmap for ports 0..0x3FF (ports above are beyond the TSS limit: denied).
    ; All denied except 0xE9 (debug output), 0xF4-0xF7 (exit) and 0x3F8.
    mov edi, IOMAP
    mov al, 0xFF
    mov ecx, 0x81
    rep stosb
    and byte [IOMAP + 0xE9 / 8], ~(1 << (0xE9 & 7))
    and byte [IOMAP + 0xF4 / 8], 0x0F
    and byte [IOMAP + 0x3F8 / 8], ~1
    mov word [TSS0 + 0x66], 0x68
    and byte [GDT_BASE + SEL_TSS0 + 5], ~2     ; not busy, so LTR accepts it again
    mov eax, TSS0
    mov ebx, 0x68 + 0x80                       ; limit covers the bitmap's terminating byte
    mov ecx, 0x89
    mov edx, SEL_TSS0
    call set_desc
    mov ax, SEL_TSS0
    ltr ax
    ; data for address-formation checks
    mov dword [0x12340], 0x600DF00D
    mov dword [0x100000], 0x1BADB002
    mov dword [0x000000], 0x0                  ; (IVT slot 0; wraps would land here with A20 off)
    ; IDT 0x40: interrupt gate DPL 3 -> h_v86frame; 0x41: gate DPL 0; 0x42: gate DPL 3 to ring-3 code
    mov ecx, 0x40
    mov eax, h_v86frame
    mov edx, 0xEE00
    call set_idt
    mov ecx, 0x41
    mov edx, 0x8E00
    call set_idt
    mov ecx, 0x42
    mov bx, SEL_CODE3
    mov edx, 0xEE00
    call set_idt_sel

    PRINT `v86 iopl0\n`
    mov eax, v86_iopl0 - ROMBASE
    mov ebx, 0x00020002                        ; VM, IOPL 0, IF 0
    call run_v86
    PRINT `v86 iopl3\n`
    mov eax, v86_iopl3 - ROMBASE
    mov ebx, 0x00023002                        ; VM, IOPL 3
    call run_v86
    ; CR4.VME (virtual IF for CLI/STI/PUSHF/POPF at IOPL < 3) is not checked: QEMU's
    ; TCG does not implement it (PUSHF still raises #GP(0) with CR4.VME set), so it
    ; cannot serve as the reference.
    PRINT `back in pm\n`
    jmp finish

; run_v86: EAX = IP in segment F000, EBX = EFLAGS (with VM). Returns when the v86
; code leaves (LEAVE_V86).
run_v86:
    push ebp
    mov [VAR_SAVEDESP], esp
    mov [TSS0 + 4], esp
    push dword 0                               ; GS
    push dword 0                               ; FS
    push dword 0                               ; DS
    push dword 0                               ; ES
    push dword 0                               ; SS
    push dword 0x7000                          ; ESP
    push ebx                                   ; EFLAGS
    push dword 0xF000                          ; CS
    push eax                                   ; EIP
    iretd

; h_v86frame: INT 0x40 from v86 — prints the frame and the segment registers as the
; handler sees them, then returns to v86.
h_v86frame:
    pushad
    mov ax, ds
    mov bx, es
    mov cx, fs
    mov dx, gs
    push dword SEL_DATA0
    pop ds
    PRINT "pm-segs"
    SHOW16 "", eax
    SHOW16 "", ebx
    SHOW16 "", ecx
    SHOW16 "", edx
    PRINT "frame"
    xor ecx, ecx
.l:
    mov eax, [esp + 32 + ecx * 4]
    cmp ecx, 2
    jne .nf
    and eax, 0x00267FD7                        ; EFLAGS without RF
.nf:
    PRINT " "
    call hex32
    inc ecx
    cmp ecx, 9
    jb .l
    NL
    popad
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

v86_iopl0:
    PRINT16 `hello from v86\n`
    mov ax, cs
    SHOWV "cs", ax
    mov ax, ss
    SHOWV "ss", ax
    mov ax, sp
    SHOWV "sp", ax
    smsw ax
    SHOWV "msw", ax
    PRINT16 `\n`
    V86TRY "cli", cli
    V86TRY "sti", sti
    V86TRY "pushf", pushf
    V86TRY "popf", popf
    V86TRY "pushfd", pushfd
    V86TRY "int40", int 0x40
    V86TRY "int3", int3
    V86TRY "into", call v86_into
    V86TRY "iret", iret
    V86TRY "hlt", hlt
    V86TRY "lgdt", lgdt [0]
    V86TRY "mov-cr0", mov eax, cr0
    V86TRY "mov-dr7", mov eax, dr7
    V86TRY "lmsw", lmsw ax
    V86TRY "clts", clts
    V86TRY "invlpg", invlpg [0]
    V86TRY "wbinvd", wbinvd
    V86TRY "rdmsr", rdmsr
    V86TRY "lar", lar ax, ax
    V86TRY "str", str ax
    V86TRY "sldt", sldt ax
    V86TRY "verr", verr ax
    V86TRY "arpl", arpl ax, ax
    V86TRY "ud2", ud2
    V86TRY "div0", call v86_div0
    V86TRY "in-80", in al, 0x80
    V86TRY "out-e9-word", out 0xE9, ax
    V86TRY "out-f4-word", call v86_f4_word
    V86TRY "out-3f8", call v86_3f8
    V86TRY "in-3f9", call v86_3f9
    V86TRY "out-400", call v86_400
    V86TRY "segments", call v86_segs
    LEAVE_V86

v86_into:
    mov al, 0x7F
    add al, 1
    into
    ret
v86_div0:
    xor cx, cx
    div cx
    ret
v86_f4_word:
    ; ports F4/F5 open: a word IN (not OUT: that would end the run) is allowed
    mov dx, 0xF4
    in ax, dx
    ret
v86_3f8:
    mov dx, 0x3F8
    mov al, 0
    out dx, al
    ret
v86_3f9:
    mov dx, 0x3F9
    in al, dx
    ret
v86_400:
    mov dx, 0x400                              ; beyond the TSS limit
    in al, dx
    ret
v86_segs:
    mov ax, 0x1234
    mov es, ax
    mov eax, [es:0x0000]                       ; 0x12340
    SHOWV "lo", ax
    shr eax, 16
    SHOWV "hi", ax
    mov ax, 0xFFFF
    mov es, ax
    mov eax, [es:0x0010]                       ; 0x100000 with A20 on
    SHOWV "wlo", ax
    shr eax, 16
    SHOWV "whi", ax
    mov ax, es
    SHOWV "es", ax
    ret

v86_iopl3:
    PRINT16 `iopl3\n`
    V86TRY "cli", cli
    V86TRY "sti", sti
    V86TRY "cli2", cli
    V86TRY "pushf-popf", call v86_flags3
    V86TRY "int40", int 0x40
    V86TRY "int41-dpl0", int 0x41
    V86TRY "int42-dpl3-code", int 0x42
    V86TRY "int3", int3
    V86TRY "iret16", call v86_iret
    V86TRY "hlt", hlt
    V86TRY "in-80", in al, 0x80
    LEAVE_V86
v86_flags3:
    pushfd
    pop eax
    and eax, 0x00267FD7
    SHOWV "fl-lo", ax
    shr eax, 16
    SHOWV "fl-hi", ax
    ; POPF may change IF and the arithmetic flags but not IOPL
    push word 0x08C3                           ; OF, SF, CF, bit 1, IF=0, IOPL 0, ZF=0...
    popf
    pushf
    pop ax
    SHOWV "popf", ax
    push word 0x0202
    popf
    pushf
    pop ax
    and ax, 0x7FD7
    SHOWV "popf2", ax
    ret
v86_iret:
    pushf
    push cs
    push word .back - ROMBASE
    iret
.back:
    PRINT16 "iret-back "
    ret

bits 32

%include "end.inc"
