; Gates and privilege transitions: 32- and 16-bit call gates (stack switch and
; parameter copy), gate checks (#GP/#NP), ring 3 <-> ring 0 via INT/IRET,
; interrupt vs trap gates (IF), INT n DPL checks, IDT limit, and one instance of
; every exception that has a vector here: #DE #DB #BP #OF #BR #UD #NM #DF #TS #NP
; #SS #GP (#PF is in paging.asm, #MF in fpu.asm; #AC cannot be checked against
; QEMU, whose TCG has no alignment checking — see r3_ac).
%include "lib.inc"

; EFLAGS bits printed from frames: RF (bit 16) is left out because whether the
; pushed image has it set for faults varies (P6 sets it, QEMU's TCG does not).
%define FLMASK 0x00267FD7

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
    push dword SEL_DATA3
    pop ds
%endmacro

; GATE sel, offset, target selector, attr word: a gate in the GDT.
%macro GATE 4
    pushad
    mov edi, GDT_BASE + %1
    mov eax, %2
    mov bx, %3
    mov dx, %4
    call set_gate
    popad
%endmacro
%macro IGATE 3
    pushad
    mov ecx, %1
    mov eax, %2
    mov edx, %3
    call set_idt
    popad
%endmacro

; GDT: 0x40 call gate 32 DPL3 -> ring 0, 2 params; 0x48 call gate DPL0; 0x50 gate not
; present; 0x58 gate to a not-present code segment; 0x60 that code segment;
; 0x68 16-bit call gate DPL3 -> 16-bit ring-0 code (SEL_CODE16), 2 params;
; 0x70 call gate DPL3 -> conforming ring-0 code (no stack switch);
; 0x78 conforming code DPL0; 0x80 call gate DPL3 -> ring 3 code (same privilege).
test_main:
    mov al, 0xFF                               ; mask the (unprogrammed) PICs so IF=1 is safe
    out 0x21, al
    out 0xA1, al
    DESC 0x60, 0, 0xFFFFF, 0xC1A              ; code, not present
    DESC 0x78, 0, 0xFFFFF, 0xC9E              ; conforming code DPL 0
    GATE 0x40, cg32_target, SEL_CODE0, 0xEC02
    GATE 0x48, cg32_target, SEL_CODE0, 0x8C02
    GATE 0x50, cg32_target, SEL_CODE0, 0x6C02
    GATE 0x58, cg32_target, 0x60, 0xEC00
    GATE 0x68, cg16_target - ROMBASE, SEL_CODE16, 0xE402
    GATE 0x70, conf_target, 0x78, 0xEC00
    GATE 0x80, r3_target, SEL_CODE3, 0xEC00
    ; IDT: 0x40 interrupt gate DPL3, 0x41 interrupt gate DPL0, 0x43 trap gate DPL3,
    ; 0x50 not present, 0x51 gate to a not-present code segment.
    IGATE 0x40, h_frame, 0xEE00
    IGATE 0x41, h_frame, 0x8E00
    IGATE 0x43, h_frame, 0xEF00
    IGATE 0x50, h_frame, 0x6E00
    mov ecx, 0x51
    mov eax, h_frame
    mov bx, 0x60
    mov edx, 0xEE00
    call set_idt_sel

    ; ---- ring 0 -> ring 0
    PRINT "int40-r0: "
    sti
    int 0x40
    PRINT "int43-r0: "
    int 0x43
    cli
    TRY "int50-not-present", int 0x50
    TRY "int51-cs-not-present", int 0x51
    TRY "callgate-same-ring", call 0x48:0
    TRY "jmp-callgate-inner", call t_jmp_gate
    TRY "callgate-not-present", call 0x50:0
    TRY "callgate-target-np", call 0x58:0
    TRY "idt-limit", call t_idt_limit

    ; ---- ring 3
    mov dword [VAR_R3FLAGS], 0x3202           ; IOPL 3 (ring 3 prints), IF 1
    mov eax, r3_main
    call run_ring3
    mov eax, r3_cg16
    call run_ring3

    ; ---- exceptions at ring 0
    TRY "de-div", call t_de
    TRY "de-idiv", call t_de_idiv
    TRY "de-aam", db 0xD4, 0x00
    ; ICEBP (F1) is not tested: P6 raises #DB, QEMU's TCG treats it as its own debug
    ; exit and the guest sees #UD.
    TRY "db-tf", call t_tf
    TRY "bp", int3
    TRY "bp-cd03", int 3
    TRY "of", call t_of
    TRY "of-no", call t_of_no
    TRY "br", call t_br
    TRY "br-ok", call t_br_ok
    TRY "ud2", ud2
    TRY "ud-lds-reg", db 0xC5, 0xC0            ; LDS with a register operand
    TRY "nm-ts", call t_nm
    TRY "nm-wait", call t_nm_wait
    TRY "wait-ts-no-mp", call t_wait_nomp
    TRY "df", call t_df
    TRY "ts-iret-nt", call t_ts
    TRY "ss-np", call t_ss_np
    TRY "iret-ss-rpl", call t_iret_bad_ss
    TRY "retf-inner", call t_retf_inner
    TRY "ac-ring0", call t_ac0
    ; #AC at CPL 3 (r3_ac) is not run: QEMU's TCG does not implement alignment checks.
    jmp finish


; h_frame: prints the interrupt frame, IF inside the handler and the handler's ESP.
h_frame:
    pushad
    PRINT "frame"
    mov ebx, [esp + 32]
    SHOW " eip", ebx
    mov ebx, [esp + 36]
    SHOW "cs", ebx
    mov ebx, [esp + 40]
    and ebx, FLMASK
    SHOW "fl", ebx
    test byte [esp + 36], 3
    jz .same
    mov ebx, [esp + 44]
    SHOW "esp", ebx
    mov ebx, [esp + 48]
    SHOW "ss", ebx
.same:
    pushfd
    pop ebx
    and ebx, 0x200
    SHOW "if", ebx
    lea ebx, [esp + 32]
    SHOW "kesp", ebx
    mov bx, ss
    SHOW16 "kss", ebx
    NL
    popad
    iretd

; cg32_target: ring-0 end of the 32-bit call gates. Prints the frame (2 params).
cg32_target:
    pushad
    mov ax, cs
    SHOW16 "cs", eax
    mov ax, ss
    SHOW16 "ss", eax
    lea ebx, [esp + 32]
    SHOW "esp", ebx
    mov ebx, [esp + 32]
    SHOW "ret", ebx
    mov ebx, [esp + 36]
    SHOW "rcs", ebx
    mov ebx, [esp + 40]
    SHOW "p0", ebx
    mov ebx, [esp + 44]
    SHOW "p1", ebx
    mov ax, [esp + 36]
    test al, 3
    jz .same
    mov ebx, [esp + 48]
    SHOW "oesp", ebx
    mov ebx, [esp + 52]
    SHOW "oss", ebx
.same:
    NL
    popad
    retf 8

; Through a call gate to conforming code the CPL stays 3, so CS.RPL must read 3 (SDM
; CALL pseudo-code, SAME-PRIVILEGE). QEMU's TCG loads the target DPL into CPL and
; CS.RPL instead (helper_lcall_protected), so CS is not printed here.
conf_target:
    mov ax, ss
    SHOW16 "ss", eax
    retf

r3_target:
    mov ax, cs
    SHOW16 "cs", eax
    retf

; 16-bit ring-0 code behind the 16-bit call gate: it records the 16-bit frame and
; leaves through a 32-bit far jump (a 16-bit RETF would truncate the caller's EIP).
bits 16
cg16_target:
    mov bp, sp
    mov ax, [bp]
    mov [ss:0x600], ax                        ; IP
    mov ax, [bp + 2]
    mov [ss:0x602], ax                        ; CS
    mov ax, [bp + 4]
    mov [ss:0x604], ax                        ; param 0
    mov ax, [bp + 6]
    mov [ss:0x606], ax                        ; param 1
    mov ax, [bp + 8]
    mov [ss:0x608], ax                        ; old SP
    mov ax, [bp + 10]
    mov [ss:0x60A], ax                        ; old SS
    mov [ss:0x60C], sp
    mov ax, cs
    mov [ss:0x60E], ax
    jmp dword SEL_CODE0:cg16_back
bits 32
cg16_back:
    push dword SEL_DATA0
    pop ds
    PRINT "cg16:"
    xor ecx, ecx
.l:
    movzx eax, word [0x600 + ecx * 2]
    PRINT " "
    call hex16
    inc ecx
    cmp ecx, 8
    jb .l
    NL
    jmp ring3_return

r3_cg16:
    push dword 0x11112222
    push dword 0x33334444
    call 0x68:0
    PRINT `cg16 returned\n`
    int 0x31

r3_main:
    PRINT "int40-r3: "
    int 0x40
    PRINT "int43-r3: "
    int 0x43
    R3TRY "int41-dpl0", int 0x41
    R3TRY "int3-dpl0", int3
    R3TRY "into-dpl0", call r3_into
    R3TRY "int50-np", int 0x50
    PRINT "cg32: "
    push dword 0xAAAA0001
    push dword 0xBBBB0002
    call 0x40:0
    mov eax, esp
    SHOW "after", eax
    NL
    add esp, 8
    R3TRY "cg32-dpl0", call 0x48:0
    R3TRY "cg32-jmp", jmp 0x40:0
    PRINT "cg-conforming: "
    call 0x70:0
    NL
    PRINT "cg-same-ring3: "
    call 0x80:0
    NL
    R3TRY "cg-rpl", call 0x43:0                ; RPL 3 of gate DPL 3 is fine
    R3TRY "gp-cli-iopl", call r3_cli_iopl0
    int 0x31
r3_into:
    mov al, 0x7F
    add al, 1
    into
    ret
r3_cli_iopl0:
    ; IOPL is 3 here; make it 0 with POPF (silently ignored at CPL 3), then CLI faults
    pushfd
    and dword [esp], ~0x3000
    popfd
    pushfd
    pop eax
    and eax, 0x3200
    push eax
    cli
    pop eax
    ret

r3_ac:
    ; #AC: CPL 3, CR0.AM and EFLAGS.AC set, misaligned data access
    PRINT "ac-r3: "
    pushfd
    or dword [esp], 0x40000
    popfd
    mov dword [VAR_RESUME], .f
    mov eax, [0x601]
    mov dword [VAR_RESUME], 0
    PRINT `NOFAULT\n`
.f:
    pushfd
    and dword [esp], ~0x40000
    popfd
    int 0x31

t_jmp_gate:
    ; from ring 0, JMP through a call gate to ring-0 code (same privilege) is allowed
    push dword 0                              ; parameters the target's RETF 8 drops
    push dword 0
    push dword SEL_CODE0                      ; and a return address for it (JMP pushes none)
    push dword .back
    jmp 0x40:0
.back:
    ret
t_idt_limit:
    sub esp, 8
    sidt [esp]
    mov word [esp], 0x40 * 8 - 1
    lidt [esp]
    mov dword [VAR_RESUME], .r
    int 0x45
.r:
    mov word [esp], 0x7FF
    lidt [esp]
    add esp, 8
    ret
t_de:
    xor ecx, ecx
    mov eax, 1
    xor edx, edx
    div ecx
    ret
t_de_idiv:
    mov eax, 0x80000000
    mov edx, 0xFFFFFFFF
    mov ecx, -1
    idiv ecx
    ret
t_tf:
    pushfd
    or dword [esp], 0x100
    popfd
    nop                                        ; the trap comes after this instruction
    nop
    ret
t_of:
    mov al, 0x7F
    add al, 1
    into
    ret
t_of_no:
    xor eax, eax
    into
    ret
bounds: dd -5, 100
t_br:
    mov eax, 101
    bound eax, [bounds]
    ret
t_br_ok:
    mov eax, -5
    bound eax, [bounds]
    mov eax, 100
    bound eax, [bounds]
    ret
t_nm:
    mov eax, cr0
    or eax, 8                                  ; TS
    mov cr0, eax
    mov dword [VAR_RESUME], .r
    fnop
.r:
    clts
    ret
t_nm_wait:
    mov eax, cr0
    or eax, 0x0A                               ; MP + TS: WAIT faults too
    mov cr0, eax
    mov dword [VAR_RESUME], .r
    fwait
.r:
    clts
    mov eax, cr0
    and eax, ~2
    mov cr0, eax
    ret
t_wait_nomp:
    mov eax, cr0
    or eax, 8                                  ; TS without MP: WAIT does not fault
    and eax, ~2
    mov cr0, eax
    fwait
    clts
    ret
t_df:
    ; #GP whose gate is not present -> #NP while delivering it -> #DF
    and byte [IDT_BASE + 13 * 8 + 5], 0x7F
    mov dword [VAR_RESUME], .r
    mov ax, 0x800
    mov ds, ax
.r:
    or byte [IDT_BASE + 13 * 8 + 5], 0x80
    ret
t_ts:
    ; IRET with NT set returns to the task in TSS0's back link: a data segment there is #TS
    mov word [TSS0], SEL_DATA0
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
t_ss_np:
    DESC 0x88, 0, 0xFFFFF, 0xC12               ; data, not present
    mov ax, 0x88
    mov ss, ax
    ret
t_iret_bad_ss:
    ; IRET to ring 3 with an SS whose RPL is not 3: #GP(SS selector)
    push dword SEL_DATA0
    push dword STACK3
    push dword 0x002
    push dword SEL_CODE3
    push dword finish
    iretd
t_retf_inner:
    ; RETF from ring 0 to a ring-0... selector with RPL 0 but DPL 3 code: #GP(sel)
    push dword 0x18
    push dword finish
    retf
t_ac0:
    ; at CPL 0 alignment checks never fire
    mov eax, cr0
    or eax, 0x40000
    mov cr0, eax
    pushfd
    or dword [esp], 0x40000
    popfd
    mov eax, [0x601]
    pushfd
    and dword [esp], ~0x40000
    popfd
    ret

%include "end.inc"
