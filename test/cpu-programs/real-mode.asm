; reference: bochs
;
; Real mode, entered from protected mode the way firmware and boot loaders do:
; clearing CR0.PE keeps the segment caches, so a 4 GiB limit loaded in protected
; mode survives ("unreal mode", also across a real-mode reload of the selector) while
; the 64 KiB limits still fault. Checks INT n and exceptions through the IVT (frames,
; the IP saved for faults and traps), 16-bit address wrap within a segment, the
; 1 MiB+ address of FFFF:0010 with A20 on, LIDT of a moved IVT, 32-bit operands and
; addresses in 16-bit code, and the way back to protected mode.
;
; The reference is Bochs because segment limits are part of it (QEMU's TCG does not
; check them); `run.ts --cross-check` shows how QEMU differs.
%include "lib.inc"

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
; RMTRY "name", instr : the IVT exception handlers print and resume at the end
%macro RMTRY 2+
    PRINT16 %1
    PRINT16 ": "
    mov [RM_SP], sp
    mov word [VAR_RESUME], %%f - ROMBASE
    %2
    mov word [VAR_RESUME], 0
    PRINT16 `ok\n`
%%f:
    mov sp, [RM_SP]
%endmacro
RM_SP equ 0x530
%define FARPTR(label) (((label) - $$) + 0xF0000000)

IVT2 equ 0x9000            ; a second IVT, for LIDT

test_main:
    ; IVT: exceptions 0-7, 12, 13 -> rm_exc_N; 0x40 -> rm_frame
    mov edi, 0
    xor eax, eax
    mov ecx, 256
    rep stosd
%assign v 0
%rep 14
    mov dword [v * 4], FARPTR(rm_exc_ %+ v)
%assign v v+1
%endrep
    mov dword [0x40 * 4], FARPTR(rm_frame)
    mov dword [0x03 * 4], FARPTR(rm_frame)       ; INT3 prints its frame too
    mov dword [IVT2 + 0x40 * 4], FARPTR(rm_frame2)
    mov dword [0x100000], 0xCAFEBABE
    mov dword [0x100010], 0x600DD00D
    mov word [VAR_RESUME + 2], 0
    PRINT `to real mode\n`
    mov ax, SEL_DATA16                           ; 64 KiB limits for DS ES SS GS
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov gs, ax
    mov ax, SEL_DATA0                            ; FS keeps a 4 GiB limit
    mov fs, ax
    jmp SEL_CODE16:(rm16 - ROMBASE)

bits 16
rm16:
    mov eax, cr0
    and eax, ~1
    mov cr0, eax
    jmp 0xF000:(rm_entry - ROMBASE)
rm_entry:
    xor ax, ax
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov gs, ax
    mov sp, 0x7000
    o32 lidt [cs:rm_idtr - ROMBASE]
    PRINT16 `in real mode\n`
    mov ax, cs
    SHOWV "cs", ax
    smsw ax
    SHOWV "msw", ax
    pushf
    pop ax
    and ax, 0x0FD5
    SHOWV "flags", ax
    PRINT16 `\n`

    ; ---- unreal FS: the 4 GiB limit from protected mode is still in FS's cache
    RMTRY "unreal-fs", call rm_unreal
    RMTRY "unreal-fs-reloaded", call rm_unreal_reload
    RMTRY "ds-limit-word", mov ax, [0xFFFF]      ; straddles the 64 KiB limit: #GP
    RMTRY "ds-limit-32", call rm_ds_32           ; 32-bit offset above 0xFFFF: #GP
    RMTRY "ss-limit", call rm_ss_limit           ; #SS in real mode (vector 12)
    RMTRY "wrap-1m", call rm_wrap

    ; ---- INT n and exceptions through the IVT
    PRINT16 "int40: "
    int 0x40
    PRINT16 "int3: "
    int3
    RMTRY "ud2", ud2
    RMTRY "div0", call rm_div0
    RMTRY "into", call rm_into
    RMTRY "bound", call rm_bound
    RMTRY "lidt-moved", call rm_lidt2
    RMTRY "o32-a32", call rm_32bit

    ; ---- back to protected mode
    cli
    mov eax, cr0
    or al, 1
    mov cr0, eax
    jmp dword SEL_CODE0:back32

; rm_exc_N: print the vector and the saved CS:IP, resume at VAR_RESUME
%macro RM_EXC 1
rm_exc_%1:
    push word %1
    jmp rm_exc_common
%endmacro
%assign v 0
%rep 14
    RM_EXC v
%assign v v+1
%endrep
rm_exc_common:
    push bp
    mov bp, sp                                   ; [bp+2]=vector [bp+4]=IP [bp+6]=CS [bp+8]=FLAGS
    push ax
    PRINT16 "EXC "
    mov ax, [bp + 2]
    call hex16_16
    PRINT16 " ip="
    mov ax, [bp + 4]
    call hex16_16
    PRINT16 " cs="
    mov ax, [bp + 6]
    call hex16_16
    PRINT16 `\n`
    push ds
    xor ax, ax
    mov ds, ax
    mov ax, [VAR_RESUME]
    pop ds
    test ax, ax
    jz .unexpected
    mov [bp + 4], ax
    pop ax
    pop bp
    add sp, 2
    iret
.unexpected:
    PRINT16 `UNEXPECTED\n`
    mov dx, 0xF4
    out dx, al
    cli
    hlt

rm_frame:
    push bp
    mov bp, sp
    push ax
    PRINT16 "frame"
    SHOWV " ip", [bp + 2]
    SHOWV "cs", [bp + 4]
    mov ax, [bp + 6]
    and ax, 0x0FD5
    SHOWV "fl", ax
    lea ax, [bp + 2]
    SHOWV "sp", ax
    pushf
    pop ax
    and ax, 0x0300                               ; IF and TF are cleared on entry
    SHOWV "if-tf", ax
    PRINT16 `\n`
    pop ax
    pop bp
    iret
rm_frame2:
    PRINT16 "second IVT "
    iret

rm_unreal:
    mov esi, 0x100000
    mov eax, [fs:esi]
    SHOWV "lo", ax
    shr eax, 16
    SHOWV "hi", ax
    ret
rm_unreal_reload:
    xor ax, ax
    mov fs, ax                                   ; base 0 again; the limit is not touched
    mov esi, 0x100010
    mov eax, [fs:esi]
    SHOWV "lo", ax
    shr eax, 16
    SHOWV "hi", ax
    ret
rm_ds_32:
    mov esi, 0x10000
    mov al, [esi]
    ret
rm_ss_limit:
    mov bp, 0xFFFF
    mov ax, [bp]                                 ; SS-relative word at 0xFFFF
    ret
rm_wrap:
    mov ax, 0xFFFF
    mov es, ax
    mov eax, [es:0x0010]                         ; 0x100000 with A20 on
    SHOWV "lo", ax
    shr eax, 16
    SHOWV "hi", ax
    xor ax, ax
    mov es, ax
    ret
rm_div0:
    xor cx, cx
    div cx
    ret
rm_into:
    mov al, 0x7F
    add al, 1
    into
    ret
rm_bound:
    mov ax, 9
    bound ax, [cs:rm_bounds - ROMBASE]
    ret
rm_bounds: dw 0, 8
rm_lidt2:
    o32 lidt [cs:rm_idtr2 - ROMBASE]
    int 0x40
    o32 lidt [cs:rm_idtr - ROMBASE]
    ret
rm_32bit:
    mov ebx, 0x12345678
    mov ecx, 3
    lea eax, [ebx + ecx * 4 + 0x100]
    SHOWV "lea-lo", ax
    shr eax, 16
    SHOWV "hi", ax
    o32 push dword 0xAABBCCDD
    pop ax
    SHOWV "pop-lo", ax
    pop ax
    SHOWV "pop-hi", ax
    ret

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
rm_idtr:
    dw 0x3FF
    dd 0
rm_idtr2:
    dw 0x3FF
    dd IVT2
bits 32

back32:
    mov ax, SEL_DATA0
    mov ds, ax
    mov es, ax
    mov ss, ax
    mov fs, ax
    mov gs, ax
    mov esp, STACK0
    lidt [ram_idtr]
    PRINT `back in protected mode\n`
    TRY "pm-exceptions-again", ud2
    jmp finish

%include "end.inc"
