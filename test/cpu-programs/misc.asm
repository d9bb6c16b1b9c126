; System and odd instructions: CPUID (signature and the feature bits the rest of
; these programs rely on), RDMSR/WRMSR of the SYSENTER MSRs, SYSENTER/SYSEXIT and
; their #GP cases, CR4.TSD, self-modifying code (incl. the very next instruction),
; string instructions with segment/address-size/operand-size overrides, REP
; termination and DF, BOUND (16-bit), LOCK #UD cases, CMPXCHG8B, BSWAP,
; SHLD/SHRD, CMOVcc, ENTER with nesting levels, PUSH ESP / POP ESP, BCD adjust
; instructions (defined flags only), debug registers (code breakpoint, data
; write and read/write breakpoints) and TF single-stepping incl. after MOV SS.
%include "lib.inc"

; Only the flags an instruction defines are printed; masks per instruction below.
%define F_ALL 0x8D5        ; OF SF ZF AF PF CF
SMC equ 0x30000            ; RAM where self-modifying code runs
BUF equ 0x40000

%macro R3TRY 2+
    PRINT %1
    PRINT ": "
    mov dword [VAR_RESUME], %%fault
    %2
    mov dword [VAR_RESUME], 0
    PRINT `ok\n`
%%fault:
    mov esp, STACK3
%endmacro

test_main:
    ; ---- CPUID
    xor eax, eax
    cpuid
    cmp eax, 1                                  ; leaf 1 exists (the max leaf itself may differ)
    setae al
    movzx eax, al
    SHOW "has-leaf1", eax
    NL
    mov eax, 1
    cpuid
    and eax, 0x0FFF
    SHOW "cpuid1-sig", eax
    and edx, 0x0100A93D                        ; FPU DE PSE TSC MSR CX8 SEP PGE CMOV FXSR
                                                ; (not VME: QEMU's pentium2 model omits it)
    SHOW "features", edx
    NL

    ; ---- MSRs
    mov ecx, 0x174
    mov eax, 0x00000008
    xor edx, edx
    wrmsr
    mov ecx, 0x175
    mov eax, 0x00008800
    wrmsr
    mov ecx, 0x176
    mov eax, sysenter_target
    wrmsr
    mov ecx, 0x174
    rdmsr
    SHOW "cs", eax
    SHOW "hi", edx
    mov ecx, 0x175
    rdmsr
    SHOW "esp", eax
    mov ecx, 0x176
    rdmsr
    SHOW "eip", eax
    NL
    TRY "rdmsr-r3", call t_msr_r3

    ; ---- SYSENTER / SYSEXIT
    mov dword [VAR_R3FLAGS], 0x3202
    mov eax, r3_sysenter
    call run_ring3
    TRY "sysexit-r0-cs0", call t_sysexit_cs0
    TRY "tsd", call t_tsd

    ; ---- self-modifying code
    call t_smc

    ; ---- strings
    call t_strings

    ; ---- BOUND 16, LOCK
    TRY "bound16-ok", call t_bound16_ok
    TRY "bound16-low", call t_bound16_low
    TRY "lock-nop", db 0xF0, 0x90
    TRY "lock-add-reg", db 0xF0, 0x01, 0xD8      ; lock add eax, ebx
    TRY "lock-add-mem", call t_lock_add
    TRY "lock-xchg-mem", call t_lock_xchg
    TRY "lock-cmpxchg8b-reg", db 0xF0, 0x0F, 0xC7, 0xC8
    TRY "cmpxchg8b-reg", db 0x0F, 0xC7, 0xC8
    ; LOCK MOV and LOCK BT (not lockable: #UD on a P6) are not checked: QEMU's TCG
    ; executes them.
    TRY "lock-bts-mem", call t_lock_bts

    ; ---- CMPXCHG8B, BSWAP, SHLD/SHRD, CMOVcc
    call t_cx8
    call t_bswap
    call t_shxd
    call t_cmov
    call t_enter
    call t_pushesp
    call t_bcd

    ; ---- debug registers and single-step
    call t_debug
    jmp finish

t_msr_r3:
    mov dword [VAR_R3FLAGS], 0x3002
    mov eax, .r3
    call run_ring3
    ret
.r3:
    R3TRY "rdmsr-ring3", rdmsr
    R3TRY "wrmsr-ring3", wrmsr
    R3TRY "sysexit-ring3", sysexit
    int 0x31

r3_sysenter:
    PRINT "sysenter: "
    mov ecx, 0x11111111
    mov edx, 0x22222222
    sysenter
sysexit_back:
    mov ax, cs
    SHOW16 "r3cs", eax
    mov ax, ss
    SHOW16 "r3ss", eax
    SHOW "esp", esp
    pushfd
    pop eax
    and eax, 0x00267FD7
    SHOW "fl", eax
    NL
    mov esp, STACK3
    int 0x31
sysenter_target:
    mov ax, cs
    SHOW16 "cs", eax
    mov ax, ss
    SHOW16 "ss", eax
    SHOW "esp", esp
    pushfd
    pop eax
    and eax, 0x00267FD7                         ; SYSENTER clears VM, IF, RF
    SHOW "fl", eax
    SHOW "ecx", ecx
    SHOW "edx", edx
    NL
    mov edx, sysexit_back
    mov ecx, STACK3 - 0x40
    sysexit

t_sysexit_cs0:
    ; SYSEXIT with IA32_SYSENTER_CS = 0: #GP(0)
    mov ecx, 0x174
    xor eax, eax
    xor edx, edx
    wrmsr
    mov dword [VAR_RESUME], .r
    sysexit
.r:
    mov ecx, 0x174
    mov eax, 8
    xor edx, edx
    wrmsr
    ret
t_tsd:
    ; CR4.TSD: RDTSC at CPL 3 is #GP(0) (at CPL 0 it still works)
    mov eax, cr4
    or eax, 4
    mov cr4, eax
    rdtsc
    mov eax, .r3
    call run_ring3
    mov eax, cr4
    and eax, ~4
    mov cr4, eax
    ret
.r3:
    R3TRY "rdtsc-r3", rdtsc
    int 0x31

; ---------------------------------------------------------------- SMC
smc_tmpl:
    mov eax, 0x11111111
    ret
smc_tmpl_end:
t_smc:
    mov esi, smc_tmpl
    mov edi, SMC
    mov ecx, smc_tmpl_end - smc_tmpl
    rep movsb
    call SMC
    SHOW "smc1", eax
    mov dword [SMC + 1], 0x22222222             ; patch the immediate
    call SMC
    SHOW "smc2", eax
    ; patch the instruction right after the store (same fetch line)
    mov esi, smc_next
    mov edi, SMC + 0x100
    mov ecx, smc_next_end - smc_next
    rep movsb
    call SMC + 0x100
    SHOW "smc-next", eax
    ; a REP MOVSB that overwrites code ahead of itself
    mov esi, smc_rep
    mov edi, SMC + 0x200
    mov ecx, smc_rep_end - smc_rep
    rep movsb
    call SMC + 0x200
    SHOW "smc-rep", eax
    NL
    ret
smc_next:
    mov byte [SMC + 0x100 + (smc_next.imm - smc_next) + 1], 0x42
.imm:
    mov eax, 0x00000001                         ; executes as mov eax, 0x00000042
    ret
smc_next_end:
smc_rep:
    mov esi, SMC + 0x200 + (.src - smc_rep)
    mov edi, SMC + 0x200 + (.dst - smc_rep)
    mov ecx, 5
    rep movsb
.dst:
    mov eax, 0x33333333
    ret
.src:
    mov eax, 0x44444444
smc_rep_end:

; ---------------------------------------------------------------- strings
t_strings:
    ; FS override on the source of MOVSD; ES is fixed for the destination
    DESC 0x40, BUF + 0x100, 0xFFFF, 0x492       ; FS base BUF+0x100
    mov edi, BUF
    mov ecx, 0x400
    mov eax, 0x5A5A5A5A
    rep stosd
    mov dword [BUF + 0x100], 0x01020304
    mov dword [BUF + 0x104], 0x05060708
    mov ax, 0x40
    mov fs, ax
    xor esi, esi
    mov edi, BUF + 0x200
    mov ecx, 2
    cld
    fs rep movsd
    SHOW "fs-movsd", [BUF + 0x204]
    SHOW "esi", esi
    SHOW "edi", edi
    NL
    ; address-size override: 16-bit SI/DI/CX; SI wraps at 0xFFFF within the segment
    mov ax, SEL_DATA16                          ; base 0, limit 0xFFFF
    mov ds, ax
    mov es, ax
    mov byte [0xFFFF], 0xAB
    mov byte [0x0000], 0xCD
    mov esi, 0xABCDFFFF                         ; upper halves must be left alone
    mov edi, 0x12340600
    mov ecx, 0x56780002
    a16 rep movsb
    push dword SEL_DATA0
    pop ds
    push dword SEL_DATA0
    pop es
    SHOW "a16-esi", esi
    SHOW "edi", edi
    SHOW "ecx", ecx
    movzx eax, word [0x600]
    SHOW "bytes", eax
    NL
    ; operand-size override and DF=1
    mov edi, BUF + 0x10
    mov ecx, 3
    mov ax, 0x7777
    std
    o16 rep stosw
    cld
    SHOW "std-stosw-edi", edi
    SHOW "m", [BUF + 0x0C]
    SHOW "m2", [BUF + 0x10]
    NL
    ; REPE CMPSB stops at the first difference; REPNE SCASB at the first match
    mov esi, str_a
    mov edi, str_b
    mov ecx, 8
    repe cmpsb
    SHOWFLAGS F_ALL
    SHOW "cmps-ecx", ecx
    mov eax, esi
    sub eax, str_a
    SHOW "si", eax
    mov edi, str_a
    mov ecx, 8
    mov al, 'd'
    repne scasb
    SHOWFLAGS F_ALL
    SHOW "scas-ecx", ecx
    ; REP with ECX = 0 does nothing
    xor ecx, ecx
    mov edi, BUF
    rep stosd
    SHOW "rep0-edi", edi
    ; LODS with a segment override, and INS/OUTS are not exercised (no device)
    mov esi, 0x100 - 4
    fs lodsd
    SHOW "fs-lodsd", eax
    NL
    ret
str_a: db "abcdefgh"
str_b: db "abcXefgh"

t_bound16_ok:
    mov ax, 5
    o16 bound ax, [bound16]
    ret
t_bound16_low:
    mov ax, -6
    o16 bound ax, [bound16]
    ret
bound16: dw -5, 5
t_lock_add:
    mov dword [BUF], 5
    mov eax, 3
    lock add [BUF], eax
    SHOW "v", [BUF]
    ret
t_lock_xchg:
    mov eax, 9
    lock xchg [BUF], eax
    SHOW "v", [BUF]
    SHOW "eax", eax
    ret
t_lock_bts:
    mov dword [BUF], 0
    mov dword [BUF + 4], 0
    mov eax, 33
    lock bts [BUF], eax
    SHOW "v", [BUF + 4]
    ret

t_cx8:
    mov dword [BUF], 0x11111111
    mov dword [BUF + 4], 0x22222222
    mov eax, 0x11111111
    mov edx, 0x22222222
    mov ebx, 0x33333333
    mov ecx, 0x44444444
    lock cmpxchg8b [BUF]
    SHOWFLAGS 0x40
    SHOW "cx8-eq lo", [BUF]
    SHOW "hi", [BUF + 4]
    mov eax, 0
    mov edx, 0
    cmpxchg8b [BUF]
    SHOWFLAGS 0x40
    SHOW "ne edx", edx
    SHOW "eax", eax
    NL
    ret
t_bswap:
    mov eax, 0x12345678
    bswap eax
    SHOW "bswap", eax
    mov edi, 0x80FF0001
    bswap edi
    SHOW "bswap-edi", edi
    NL
    ret

; SHLD/SHRD: counts 1 (OF defined), 4, 31, 32 (masked to 0: nothing changes, flags kept)
t_shxd:
    mov esi, shxd_counts
.l:
    movzx ecx, byte [esi]
    cmp cl, 0xFF
    je .d
    PRINT "shld/shrd "
    mov eax, ecx
    call hex8
    mov eax, 0x9ABCDEF0
    mov ebx, 0x87654321
    xor edx, edx                                ; known flags before (ZF=1, others 0)
    shld eax, ebx, cl
    call .flags
    SHOW " r", eax
    mov eax, 0x9ABCDEF0
    xor edx, edx
    shrd eax, ebx, cl
    call .flags
    SHOW "r", eax
    mov ax, 0x1234
    mov bx, 0xF00F
    xor edx, edx
    cmp cl, 16
    ja .skip16                                  ; 16-bit forms with counts > 16 are undefined
    shld ax, bx, cl
    call .flags
    SHOW16 "r16", eax
.skip16:
    NL
    inc esi
    jmp .l
.d:
    ret
; prints CF SF ZF PF (defined for count > 0), and OF only for count 1
.flags:
    pushfd
    push eax
    mov eax, [esp + 4]
    and eax, 0xC5
    cmp cl, 1
    jne .nof
    mov eax, [esp + 4]
    and eax, 0x8C5
.nof:
    PRINT " fl="
    call hex16
    pop eax
    popfd
    ret
shxd_counts: db 1, 4, 16, 31, 32, 0, 0xFF

t_cmov:
    PRINT "cmov"
    mov esi, cmov_flags
.l:
    mov eax, [esi]
    cmp eax, 0xFFFFFFFF
    je .d
    push eax
    popfd
    mov edi, 0                                  ; (nothing here may change the flags)
%assign cc 0
%rep 16
    mov eax, 1 << cc
    mov ebx, 0
    db 0x0F, 0x40 + cc, 0xD8                    ; cmovcc ebx, eax
    lea edi, [edi + ebx]
%assign cc cc+1
%endrep
    PRINT " "
    mov eax, edi
    call hex16
    add esi, 4
    jmp .l
.d:
    NL
    ret
cmov_flags: dd 0x002, 0x003, 0x042, 0x082, 0x802, 0x882, 0x006, 0x8C3, 0xFFFFFFFF

t_enter:
    mov ebp, 0x8800
    mov dword [0x8800 - 4], 0xAAAA0001          ; the outer frames' saved frame pointers
    mov dword [0x8800 - 8], 0xAAAA0002
    mov [VAR_TRYESP], esp
    mov esp, 0x8700
    enter 0x10, 3
    mov eax, esp
    mov ebx, ebp
    mov ecx, [ebp - 4]
    mov edx, [ebp - 8]
    mov esi, [ebp - 12]
    mov edi, [ebp]
    leave
    mov ebp, esp
    mov esp, [VAR_TRYESP]
    SHOW "enter esp", eax
    SHOW "ebp", ebx
    SHOW "f1", ecx
    SHOW "f2", edx
    SHOW "f3", esi
    SHOW "old", edi
    SHOW "after-leave", ebp
    NL
    ret

t_pushesp:
    mov ebx, esp
    push esp
    pop eax
    sub eax, ebx
    SHOW "push-esp", eax                        ; the value before the push
    push dword 0x1234
    pop esp                                     ; ESP = the popped value
    mov eax, esp
    mov esp, ebx
    SHOW "pop-esp", eax
    NL
    ret

; BCD: DAA/DAS (CF AF SF ZF PF), AAA/AAS (AF CF), AAM/AAD (SF ZF PF)
t_bcd:
    mov esi, bcd_in
.l:
    movzx eax, word [esi]
    cmp ax, 0xFFFF
    je .d
    PRINT "bcd "
    call hex16
    PRINT " "
    movzx edx, byte [esi + 2]                   ; EFLAGS in (CF, AF)
    push edx
    popfd
    daa
    SHOWFLAGS 0xD5
    SHOW16 "daa", eax
    movzx eax, word [esi]
    push edx
    popfd
    das
    SHOWFLAGS 0xD5
    SHOW16 "das", eax
    movzx eax, word [esi]
    push edx
    popfd
    aaa
    SHOWFLAGS 0x11
    SHOW16 "aaa", eax
    movzx eax, word [esi]
    push edx
    popfd
    aas
    SHOWFLAGS 0x11
    SHOW16 "aas", eax
    movzx eax, word [esi]
    aam
    SHOWFLAGS 0xC4
    SHOW16 "aam", eax
    movzx eax, word [esi]
    aad
    SHOWFLAGS 0xC4
    SHOW16 "aad", eax
    movzx eax, word [esi]
    db 0xD4, 0x07                               ; aam 7
    SHOW16 "aam7", eax
    NL
    add esi, 3
    jmp .l
.d:
    ret
bcd_in:
    dw 0x0009
    db 0x02
    dw 0x009A
    db 0x02
    dw 0x0199
    db 0x13
    dw 0x00FF
    db 0x03
    dw 0x0000
    db 0x12
    dw 0x0A0F
    db 0x02
    dw 0x00F9
    db 0x11
    dw 0xFFFF

; ---------------------------------------------------------------- debug
t_debug:
    ; code breakpoint (fault: reported before the instruction runs)
    mov eax, .code_bp
    mov dr0, eax
    mov eax, 0x00000001                         ; L0, RW0=00 execute, LEN0=00
    mov dr7, eax
    PRINT "code-bp: "
    mov dword [VAR_RESUME], .c_done
    xor eax, eax
.code_bp:
    mov eax, 1
.c_done:
    SHOW "eax", eax                             ; 0: the breakpoint came first
    NL
    ; data write breakpoint (trap: after the write)
    mov eax, BUF + 0x20
    mov dr1, eax
    mov eax, 0x00D00004                         ; L1, RW1=01 write, LEN1=11 (4 bytes)
    mov dr7, eax
    PRINT "data-w-bp: "
    mov dword [VAR_RESUME], .w_done
    mov dword [BUF + 0x20], 0x1234              ; traps after the store
    PRINT `NOTRAP\n`
.w_done:
    SHOW "v", [BUF + 0x20]
    mov eax, [BUF + 0x20]                       ; a read does not match RW=01
    SHOW "read", eax
    NL
    ; read/write breakpoint on a 2-byte range, hit by an unaligned dword read
    mov eax, BUF + 0x42
    mov dr2, eax
    mov eax, 0x07300010                         ; L2, RW2=11 read/write, LEN2=01 (2 bytes)
    mov dr7, eax
    PRINT "data-rw-bp: "
    mov dword [VAR_RESUME], .r_done
    mov eax, [BUF + 0x41]
    PRINT `NOTRAP\n`
.r_done:
    NL
    xor eax, eax
    mov dr7, eax
    ; DR7.GD (MOV DR faulting with BD) is not checked: QEMU's TCG ignores GD.
    ; TF: single-step traps after each instruction; the handler clears TF, so one trap
    PRINT "tf: "
    mov dword [VAR_RESUME], .t_done
    pushfd
    or dword [esp], 0x100
    popfd
    mov eax, 0x55
.t_done:
    SHOW "eax", eax
    NL
    ; a POP SS / MOV SS suppresses the single-step trap for one instruction
    PRINT "tf-movss: "
    mov dword [VAR_RESUME], .s_done
    mov ax, ss
    pushfd
    or dword [esp], 0x100
    popfd
    mov ss, ax                                  ; no trap after this one...
    mov eax, 0x66                               ; ...but after this one
    mov eax, 0x77
.s_done:
    SHOW "eax", eax
    NL
    ret

%include "end.inc"
